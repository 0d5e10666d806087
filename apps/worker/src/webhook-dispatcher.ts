import { deliverDueWebhooks, pruneWebhookHistory, type Platform } from "@lucid/core";
import type { Logger } from "pino";

export interface WebhookDispatcherOptions {
  /** Pause between passes that found nothing more to send. */
  pollMs: number;
  /** Deliveries taken per pass (sent concurrently). */
  batchSize?: number;
  /** Per-request timeout of one POST. */
  timeoutMs?: number;
}

const PRUNE_EVERY_MS = 3600_000;

export interface WebhookDispatcher {
  /** Finishes the pass in progress (its POSTs and their records), then stops. */
  stop(): Promise<void>;
}

/**
 * The webhook outbox's dispatcher: takes due deliveries (several workers can
 * run one each: core takes rows with FOR UPDATE SKIP LOCKED), POSTs them
 * signed, records every attempt, and retries failures with backoff. A full
 * batch is followed at once by the next pass; otherwise it waits `pollMs`.
 */
export function startWebhookDispatcher(ctx: { platform: Platform; log: Logger }, opts: WebhookDispatcherOptions): WebhookDispatcher {
  const batchSize = opts.batchSize ?? 20;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  let prunedAt = 0;
  const tick = () => {
    running = pruneNowAndThen()
      .then(() =>
        deliverDueWebhooks(ctx.platform, {
          limit: batchSize,
          timeoutMs: opts.timeoutMs,
          onError: (err, deliveryId) => ctx.log.warn({ deliveryId, err: (err as Error).message }, "webhook attempt not recorded; it is sent again after its lease"),
        }),
      )
      .then((taken) => {
        if (taken > 0) ctx.log.debug({ taken }, "webhook deliveries attempted");
        return taken;
      })
      .catch((err) => {
        ctx.log.warn({ err: (err as Error).message }, "webhook dispatch pass failed; trying again later");
        return 0;
      })
      .then((taken) => {
        if (!stopped) timer = setTimeout(tick, taken >= batchSize ? 0 : opts.pollMs);
      });
  };
  // Old events (30 days, nothing pending) are deleted about once an hour.
  const pruneNowAndThen = async () => {
    if (Date.now() - prunedAt < PRUNE_EVERY_MS) return;
    prunedAt = Date.now();
    const pruned = await pruneWebhookHistory(ctx.platform);
    if (pruned > 0) ctx.log.info({ pruned }, "old webhook events deleted");
  };
  timer = setTimeout(tick, 0);
  return {
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
