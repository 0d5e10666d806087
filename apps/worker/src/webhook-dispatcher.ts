import { deliverDueWebhooks, type Platform } from "@lucid/core";
import type { Logger } from "pino";
import { startRepeating } from "./repeating.ts";

export interface WebhookDispatcherOptions {
  /** Pause between passes that found nothing more to send. */
  pollMs: number;
  /** Deliveries taken per pass (sent concurrently). */
  batchSize?: number;
  /** Per-request timeout of one POST. */
  timeoutMs?: number;
}

export interface WebhookDispatcher {
  /** Finishes the pass in progress (its POSTs and their records), then stops. */
  stop(): Promise<void>;
}

/**
 * The webhook outbox's dispatcher: takes due deliveries (several workers can
 * run one each: core takes rows with FOR UPDATE SKIP LOCKED), POSTs them
 * signed, records every attempt, and retries failures with backoff. A full
 * batch is followed at once by the next pass; otherwise it waits `pollMs`.
 * (Old webhook history is deleted by housekeeping.ts.)
 */
export function startWebhookDispatcher(ctx: { platform: Platform; log: Logger }, opts: WebhookDispatcherOptions): WebhookDispatcher {
  const batchSize = opts.batchSize ?? 20;
  return startRepeating(async () => {
    try {
      const taken = await deliverDueWebhooks(ctx.platform, {
        limit: batchSize,
        timeoutMs: opts.timeoutMs,
        onError: (err, deliveryId) => ctx.log.warn({ deliveryId, err: (err as Error).message }, "webhook attempt not recorded; it is sent again after its lease"),
      });
      if (taken > 0) ctx.log.debug({ taken }, "webhook deliveries attempted");
      return taken >= batchSize ? 0 : opts.pollMs;
    } catch (err) {
      ctx.log.warn({ err: (err as Error).message }, "webhook dispatch pass failed; trying again later");
      return opts.pollMs;
    }
  }, opts.pollMs);
}
