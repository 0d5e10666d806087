import { Webhook } from "standardwebhooks";
import type { components } from "./schema.ts";

/** A webhook delivery's body: `{ type, timestamp, data }`, `data` being the Generation at the event. */
export type WebhookEvent = components["schemas"]["WebhookEventPayload"];

/**
 * Verifies a webhook delivery signed with the Standard Webhooks scheme
 * (`webhook-id`, `webhook-timestamp`, `webhook-signature` headers; HMAC-SHA256
 * with a `whsec_…` secret; deliveries older or newer than five minutes are
 * refused) and returns its parsed JSON payload. Throws on a bad signature.
 *
 * `payload` must be the raw request body, byte for byte, not re-serialised JSON.
 * `secret` is the endpoint's `whsec_…` secret (for `webhook_url` deliveries,
 * the workspace's signing secret). Deduplicate on the `webhook-id` header.
 */
export function verifyWebhook<T = WebhookEvent>(payload: string | Buffer, headers: Headers | Record<string, string | string[] | undefined>, secret: string): T {
  return new Webhook(secret).verify(payload, headerRecord(headers)) as T;
}

function headerRecord(headers: Headers | Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof (headers as Headers).forEach === "function" && typeof (headers as Headers).get === "function") {
    (headers as Headers).forEach((value, key) => (out[key.toLowerCase()] = value));
    return out;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (value !== undefined) out[key.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}
