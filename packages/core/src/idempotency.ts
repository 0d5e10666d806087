import { createHash, randomUUID } from "node:crypto";
import { AppError } from "./errors.ts";
import { requestPathSql } from "./limits.ts";
import type { Platform } from "./platform.ts";

/**
 * Idempotent POSTs, Stripe's contract: the first response to an
 * `Idempotency-Key` is kept for 24 hours per workspace and replayed for the
 * same key; the same key with other parameters is refused (422
 * `idempotency_key_reused`), and so is a retry while the first request still
 * runs (409 `idempotency_request_in_progress`). A request that fails before its
 * work starts (validation, limits) stores nothing, so a corrected retry with
 * the same key goes through.
 *
 * The row is the lock: it is inserted first (unique per workspace and key), so
 * of many concurrent retries, on any number of instances, exactly one runs.
 */

/** How long a response stays replayable. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** An unfinished request older than this is presumed dead (its process crashed); a retry takes it over. */
export const IDEMPOTENCY_LOCK_MS = 5 * 60 * 1000;

export interface StoredResponse {
  status: number;
  body: string;
  headers: Record<string, string>;
}

export type IdempotencyStart = { kind: "started"; recordId: string } | { kind: "replay"; response: StoredResponse };

/** What makes two requests "the same": method, path and exact body bytes. */
export function requestFingerprint(method: string, path: string, body: string): string {
  return createHash("sha256").update(`${method.toUpperCase()} ${path}\n`).update(body).digest("hex");
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

/** Takes the key for this request, or answers how an earlier request with it ended. */
export async function beginIdempotentRequest(p: Platform, workspaceId: string, key: string, fingerprint: string): Promise<IdempotencyStart> {
  if (!KEY_PATTERN.test(key)) {
    throw new AppError("validation_failed", "Idempotency-Key must be 1–255 printable ASCII characters without spaces", [
      { field: "Idempotency-Key", message: "must be 1–255 printable ASCII characters without spaces" },
    ]);
  }
  for (let attempt = 0; attempt < 3; attempt++) {
    const now = new Date();
    // The common case (a new key) is this one statement, on the request path's plain connection.
    const { rows: inserted } = await requestPathSql(p).query<{ id: string }>(
      `INSERT INTO "IdempotencyKey" ("id", "workspaceId", "key", "requestHash", "createdAt", "lockedUntil", "expiresAt")
       VALUES ($1::uuid, $2::uuid, $3, $4, $5::timestamp(3), $6::timestamp(3), $7::timestamp(3))
       ON CONFLICT ("workspaceId", "key") DO NOTHING
       RETURNING "id"`,
      [
        randomUUID(),
        workspaceId,
        key,
        fingerprint,
        now.toISOString(),
        new Date(now.getTime() + IDEMPOTENCY_LOCK_MS).toISOString(),
        new Date(now.getTime() + IDEMPOTENCY_TTL_MS).toISOString(),
      ],
    );
    if (inserted[0]) return { kind: "started", recordId: inserted[0].id };

    const existing = await p.db.idempotencyKey.findUnique({ where: { workspaceId_key: { workspaceId, key } } });
    if (!existing) continue; // released meanwhile: try again
    const stale = existing.expiresAt <= now || (existing.completedAt === null && existing.lockedUntil <= now);
    if (stale) {
      // Take it over only if nobody else did first (the same row as we read it).
      const taken = await p.db.idempotencyKey.updateMany({
        where: { id: existing.id, lockedUntil: existing.lockedUntil, expiresAt: existing.expiresAt },
        data: {
          requestHash: fingerprint,
          responseStatus: null,
          responseBody: null,
          responseHeaders: undefined,
          completedAt: null,
          lockedUntil: new Date(now.getTime() + IDEMPOTENCY_LOCK_MS),
          expiresAt: new Date(now.getTime() + IDEMPOTENCY_TTL_MS),
        },
      });
      if (taken.count === 1) return { kind: "started", recordId: existing.id };
      continue;
    }
    if (existing.requestHash !== fingerprint) {
      throw new AppError(
        "idempotency_key_reused",
        "This Idempotency-Key was already used with different parameters (method, path or body). Use a new key for a new request.",
      );
    }
    if (existing.completedAt === null || existing.responseStatus === null) {
      throw new AppError("idempotency_request_in_progress", "A request with this Idempotency-Key is still being processed. Retry in a moment.");
    }
    return {
      kind: "replay",
      response: {
        status: existing.responseStatus,
        body: existing.responseBody ?? "",
        headers: (existing.responseHeaders ?? {}) as Record<string, string>,
      },
    };
  }
  throw new AppError("idempotency_request_in_progress", "A request with this Idempotency-Key is still being processed. Retry in a moment.");
}

/** Records the response to replay; from now on the key answers with it for 24 hours. */
export async function completeIdempotentRequest(p: Platform, recordId: string, response: StoredResponse): Promise<void> {
  const now = Date.now();
  await requestPathSql(p).query(
    `UPDATE "IdempotencyKey"
     SET "responseStatus" = $2, "responseBody" = $3, "responseHeaders" = $4::jsonb, "completedAt" = $5::timestamp(3), "expiresAt" = $6::timestamp(3)
     WHERE "id" = $1::uuid`,
    [recordId, response.status, response.body, JSON.stringify(response.headers), new Date(now).toISOString(), new Date(now + IDEMPOTENCY_TTL_MS).toISOString()],
  );
}

/** Frees the key of a request that failed before its work started, so a corrected retry can use it. */
export async function releaseIdempotencyKey(p: Platform, recordId: string): Promise<void> {
  await p.db.idempotencyKey.deleteMany({ where: { id: recordId, completedAt: null } });
}

/** Deletes records past their 24 hours (run it now and then; expired rows are also reused in place). */
export async function purgeExpiredIdempotencyKeys(p: Platform, now = new Date()): Promise<number> {
  return (await p.db.idempotencyKey.deleteMany({ where: { expiresAt: { lt: now } } })).count;
}
