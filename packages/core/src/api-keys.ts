import { createHmac, randomBytes } from "node:crypto";
import { API_KEY_SCOPES, CreateApiKeyInput, MAX_ACTIVE_API_KEYS, describeFieldErrors, fieldErrors, type ApiKeyScope } from "@lucid/contracts";
import { AppError, notFound } from "./errors.ts";
import { isUuid } from "./jobs.ts";
import { keyCreditsThisMonth, requestPathSql } from "./limits.ts";
import type { Platform } from "./platform.ts";

export const API_KEY_PREFIX = "lucid_sk_";

/** Keys are stored as HMAC-SHA256 under the server secret: a leaked table cannot be replayed. */
export function hashApiKey(secret: string, key: string): string {
  return createHmac("sha256", secret).update(key).digest("hex");
}

/** Keys that can still be used: not revoked and not expired. */
const activeKeys = (workspaceId: string, now = new Date()) => ({
  workspaceId,
  revokedAt: null,
  OR: [{ expiresAt: null }, { expiresAt: { gt: now } }],
});

/**
 * Creates a key (all scopes unless narrowed; optional expiry, monthly credit cap
 * and per-key rate limit). A workspace holds at most MAX_ACTIVE_API_KEYS active
 * keys (409 `api_key_limit_reached`). The full key is returned this once and never stored.
 */
export async function createApiKey(p: Platform, workspaceId: string, createdById: string | undefined, input: unknown) {
  const parsed = CreateApiKeyInput.safeParse(input);
  if (!parsed.success) {
    const fields = fieldErrors(parsed.error);
    throw new AppError("validation_failed", describeFieldErrors(fields), fields);
  }
  const { name, scopes, expiresAt, monthlyCreditCap, rateLimitPerMinute } = parsed.data;
  if (expiresAt && expiresAt.getTime() <= Date.now()) {
    throw new AppError("validation_failed", "expiresAt must be in the future", [{ field: "expiresAt", message: "must be in the future" }]);
  }
  // 192 random bits, URL-safe.
  const key = API_KEY_PREFIX + randomBytes(24).toString("base64url");
  const record = await p.db.$transaction(async (tx) => {
    // Serialise key creation per workspace so concurrent creates cannot pass the limit together.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`api-keys:${workspaceId}`}, 0))`;
    const active = await tx.apiKey.count({ where: activeKeys(workspaceId) });
    if (active >= MAX_ACTIVE_API_KEYS) {
      throw new AppError(
        "api_key_limit_reached",
        `This workspace already has ${active} active API keys, the most allowed (${MAX_ACTIVE_API_KEYS}). Revoke one first.`,
      );
    }
    return tx.apiKey.create({
      data: {
        workspaceId,
        createdById,
        name,
        keyHash: hashApiKey(p.config.secret, key),
        prefix: `${key.slice(0, API_KEY_PREFIX.length + 4)}…`,
        scopes: [...new Set(scopes)],
        expiresAt: expiresAt ?? null,
        monthlyCreditCap: monthlyCreditCap ?? null,
        rateLimitPerMinute: rateLimitPerMinute ?? null,
      },
    });
  });
  return {
    key,
    id: record.id,
    name: record.name,
    prefix: record.prefix,
    scopes: record.scopes as ApiKeyScope[],
    expiresAt: record.expiresAt,
    monthlyCreditCap: record.monthlyCreditCap,
    createdAt: record.createdAt,
  };
}

/** The workspace's keys, newest first, with the credits each used this calendar month (UTC). */
export async function listApiKeys(p: Platform, workspaceId: string) {
  const keys = await p.db.apiKey.findMany({
    where: { workspaceId },
    orderBy: { createdAt: "desc" },
    select: {
      id: true,
      name: true,
      prefix: true,
      createdAt: true,
      lastUsedAt: true,
      revokedAt: true,
      scopes: true,
      expiresAt: true,
      monthlyCreditCap: true,
      rateLimitPerMinute: true,
    },
  });
  return Promise.all(
    keys.map(async (k) => ({
      ...k,
      scopes: k.scopes as ApiKeyScope[],
      expired: k.expiresAt !== null && k.expiresAt.getTime() <= Date.now(),
      creditsUsedThisMonth: k.monthlyCreditCap === null ? null : await keyCreditsThisMonth(p.db, k.id),
    })),
  );
}

export async function revokeApiKey(p: Platform, workspaceId: string, keyId: string): Promise<void> {
  if (!isUuid(keyId)) throw notFound("API key");
  const r = await p.db.apiKey.updateMany({ where: { id: keyId, workspaceId, revokedAt: null }, data: { revokedAt: new Date() } });
  if (r.count === 0) {
    const exists = await p.db.apiKey.findFirst({ where: { id: keyId, workspaceId } });
    if (!exists) throw notFound("API key");
  }
}

/** An authenticated API key: its workspace (and plan), what it may do and its limits. */
export interface ApiKeyPrincipal {
  workspaceId: string;
  apiKeyId: string;
  scopes: ApiKeyScope[];
  plan: string;
  /** Requests per minute set on the key; null = the plan's. */
  rateLimitPerMinute: number | null;
}

const LAST_USED_RESOLUTION_MS = 60_000;
/** When this process last stamped each key: concurrent requests of one key write at most once a minute, not once each. */
const lastStamped = new Map<string, number>();

/** Coarse last-used stamp: at most one write a minute per key (and a conditional one, across instances). */
async function stampLastUsed(p: Platform, keyId: string, lastUsedAt: Date | null): Promise<void> {
  const now = Date.now();
  if (lastUsedAt && now - lastUsedAt.getTime() <= LAST_USED_RESOLUTION_MS) return;
  if (now - (lastStamped.get(keyId) ?? 0) <= LAST_USED_RESOLUTION_MS) return;
  lastStamped.set(keyId, now);
  if (lastStamped.size > 10_000) lastStamped.clear(); // a bound, not a cache: forgetting only costs one write
  await p.db.apiKey.updateMany({
    where: { id: keyId, OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(now - LAST_USED_RESOLUTION_MS) } }] },
    data: { lastUsedAt: new Date(now) },
  });
}

/**
 * Resolves a bearer key, answering why it is refused: unknown (401
 * `invalid_api_key`), revoked (401 `api_key_revoked`) or expired (401 `api_key_expired`).
 */
export async function authenticateApiKey(p: Platform, key: string): Promise<ApiKeyPrincipal> {
  const invalid = new AppError("invalid_api_key", "The API key is not valid. Check that it was copied whole.");
  if (!key.startsWith(API_KEY_PREFIX)) throw invalid;
  // One round trip: the key and its workspace's plan.
  const { rows } = await requestPathSql(p).query<{
    id: string;
    workspaceId: string;
    scopes: string[];
    revokedAt: Date | null;
    expiresAt: Date | null;
    lastUsedAt: Date | null;
    rateLimitPerMinute: number | null;
    plan: string;
  }>(
    `SELECT k."id", k."workspaceId", k."scopes", k."revokedAt", k."expiresAt", k."lastUsedAt", k."rateLimitPerMinute", w."plan"
     FROM "ApiKey" k JOIN "Workspace" w ON w."id" = k."workspaceId"
     WHERE k."keyHash" = $1`,
    [hashApiKey(p.config.secret, key)],
  );
  const record = rows[0];
  if (!record) throw invalid;
  if (record.revokedAt) throw new AppError("api_key_revoked", `This API key was revoked on ${record.revokedAt.toISOString()}.`);
  if (record.expiresAt && record.expiresAt.getTime() <= Date.now()) {
    throw new AppError("api_key_expired", `This API key expired on ${record.expiresAt.toISOString()}.`);
  }
  await stampLastUsed(p, record.id, record.lastUsedAt);
  return {
    workspaceId: record.workspaceId,
    apiKeyId: record.id,
    scopes: record.scopes.filter((s): s is ApiKeyScope => (API_KEY_SCOPES as readonly string[]).includes(s)),
    plan: record.plan,
    rateLimitPerMinute: record.rateLimitPerMinute,
  };
}

/** 403 `insufficient_scope` naming the missing scope. */
export function requireScope(granted: readonly ApiKeyScope[], needed: ApiKeyScope): void {
  if (!granted.includes(needed)) {
    throw new AppError("insufficient_scope", `This API key lacks the scope "${needed}", which this endpoint requires.`, [
      { field: "scope", message: `requires ${needed}` },
    ]);
  }
}
