import { purgeExpiredIdempotencyKeys } from "./idempotency.ts";
import { pruneWebhookHistory } from "./webhooks.ts";
import type { Platform } from "./platform.ts";

/** What one housekeeping pass deleted. */
export interface HousekeepingReport {
  idempotencyKeys: number;
  sessions: number;
  verifications: number;
  emailTokens: number;
  webhookEvents: number;
}

/**
 * Deletes records whose life is over: idempotency keys past their 24 h,
 * expired browser sessions and better-auth verification values (OAuth state),
 * emailed links past their expiry, and webhook history past its retention.
 * Each delete is idempotent, so any number of workers may run it at once.
 */
export async function purgeExpiredRecords(p: Platform, now = new Date()): Promise<HousekeepingReport> {
  const [idempotencyKeys, sessions, verifications, emailTokens, webhookEvents] = await Promise.all([
    purgeExpiredIdempotencyKeys(p, now),
    p.db.session.deleteMany({ where: { expiresAt: { lt: now } } }).then((r) => r.count),
    p.db.verification.deleteMany({ where: { expiresAt: { lt: now } } }).then((r) => r.count),
    p.db.emailToken.deleteMany({ where: { expiresAt: { lt: now } } }).then((r) => r.count),
    pruneWebhookHistory(p, now),
  ]);
  return { idempotencyKeys, sessions, verifications, emailTokens, webhookEvents };
}
