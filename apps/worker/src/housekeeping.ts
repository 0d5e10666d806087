import type { Logger } from "pino";
import { purgeExpiredRecords, type Platform } from "@lucid/core";
import { startRepeating } from "./repeating.ts";

/**
 * Runs `purgeExpiredRecords` now and then every `intervalMs` (expired
 * sessions, OAuth state, emailed links, idempotency keys, old webhook history).
 * Every worker runs it; the deletes are idempotent, so overlapping passes are harmless.
 */
export function startHousekeeping(ctx: { platform: Platform; log: Logger }, intervalMs: number): { stop(): Promise<void> } {
  return startRepeating(async () => {
    try {
      const deleted = await purgeExpiredRecords(ctx.platform);
      if (Object.values(deleted).some((n) => n > 0)) ctx.log.info({ deleted }, "housekeeping: expired records deleted");
    } catch (err) {
      ctx.log.warn({ err }, "housekeeping failed; retrying next interval");
    }
    return intervalMs;
  }, intervalMs);
}
