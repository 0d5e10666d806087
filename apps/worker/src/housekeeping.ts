import type { Logger } from "pino";
import { purgeExpiredRecords, type Platform } from "@lucid/core";

/**
 * Runs `purgeExpiredRecords` now and then every `intervalMs` (expired
 * sessions, OAuth state, emailed links, idempotency keys, old webhook history).
 * Every worker runs it; the deletes are idempotent, so overlapping passes are harmless.
 */
export function startHousekeeping(ctx: { platform: Platform; log: Logger }, intervalMs: number): { stop(): Promise<void> } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    running = purgeExpiredRecords(ctx.platform)
      .then((deleted) => {
        if (Object.values(deleted).some((n) => n > 0)) ctx.log.info({ deleted }, "housekeeping: expired records deleted");
      })
      .catch((err) => ctx.log.warn({ err }, "housekeeping failed; retrying next interval"))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, intervalMs);
      });
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
