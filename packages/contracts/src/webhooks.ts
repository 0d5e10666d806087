import { z } from "zod";
import { Generation, WebhookUrl } from "./generation.ts";

/** The generation events a webhook endpoint can subscribe to. */
export const WEBHOOK_EVENT_TYPES = [
  "generation.started",
  "generation.progress",
  "generation.succeeded",
  "generation.failed",
  "generation.canceled",
] as const;
export const WebhookEventType = z.enum(WEBHOOK_EVENT_TYPES).meta({ id: "WebhookEventType" });
export type WebhookEventType = z.infer<typeof WebhookEventType>;

/**
 * `generation.progress` is sent every this many steps (never for the last
 * step: `generation.succeeded` follows it).
 */
export const WEBHOOK_PROGRESS_EVERY_STEPS = 5;

/**
 * The body of every webhook delivery, signed with the Standard Webhooks scheme
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature` headers). The same
 * `webhook-id` is sent on every retry of one event.
 */
export const WebhookEventPayload = z
  .object({
    type: WebhookEventType,
    /** When the event happened (ISO 8601). Deliveries are not ordered: use this and `data.status`. */
    timestamp: z.string(),
    /** The generation as it was at the event (as GET /api/v1/generations/{id} returns it). */
    data: Generation,
  })
  .meta({ id: "WebhookEventPayload", description: "A generation event, POSTed as JSON to webhook endpoints and to a generation's `webhook_url`." });
export type WebhookEventPayload = z.infer<typeof WebhookEventPayload>;

/** The settings form's request to add a workspace endpoint. */
export const CreateWebhookEndpointRequest = z.object({
  url: WebhookUrl,
  events: z.array(WebhookEventType).min(1, "choose at least one event").default([...WEBHOOK_EVENT_TYPES]),
});
export type CreateWebhookEndpointRequest = z.output<typeof CreateWebhookEndpointRequest>;
