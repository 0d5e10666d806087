import { createHmac, randomBytes } from "node:crypto";
import { CreateApiKeyRequest, describeFieldErrors, fieldErrors } from "@lucid/contracts";
import { AppError, notFound } from "./errors.ts";
import { isUuid } from "./jobs.ts";
import type { Platform } from "./platform.ts";

export const API_KEY_PREFIX = "lucid_sk_";

/** Keys are stored as HMAC-SHA256 under the server secret: a leaked table cannot be replayed. */
export function hashApiKey(secret: string, key: string): string {
  return createHmac("sha256", secret).update(key).digest("hex");
}

/** Creates a key; the full key is returned this once and never stored. */
export async function createApiKey(p: Platform, workspaceId: string, createdById: string | undefined, input: unknown) {
  const parsed = CreateApiKeyRequest.safeParse(input);
  if (!parsed.success) {
    const fields = fieldErrors(parsed.error);
    throw new AppError("validation_failed", describeFieldErrors(fields), fields);
  }
  // 192 random bits, URL-safe.
  const key = API_KEY_PREFIX + randomBytes(24).toString("base64url");
  const record = await p.db.apiKey.create({
    data: {
      workspaceId,
      createdById,
      name: parsed.data.name,
      keyHash: hashApiKey(p.config.secret, key),
      prefix: `${key.slice(0, API_KEY_PREFIX.length + 4)}…`,
    },
  });
  return { key, id: record.id, name: record.name, prefix: record.prefix, createdAt: record.createdAt };
}

export async function listApiKeys(p: Platform, workspaceId: string) {
  return p.db.apiKey.findMany({
    where: { workspaceId },
    orderBy: { createdAt: "desc" },
    select: { id: true, name: true, prefix: true, createdAt: true, lastUsedAt: true, revokedAt: true },
  });
}

export async function revokeApiKey(p: Platform, workspaceId: string, keyId: string): Promise<void> {
  if (!isUuid(keyId)) throw notFound("API key");
  const r = await p.db.apiKey.updateMany({ where: { id: keyId, workspaceId, revokedAt: null }, data: { revokedAt: new Date() } });
  if (r.count === 0) {
    const exists = await p.db.apiKey.findFirst({ where: { id: keyId, workspaceId } });
    if (!exists) throw notFound("API key");
  }
}

/** Resolves a bearer key to its workspace; unknown and revoked keys get the same 401. */
export async function authenticateApiKey(p: Platform, key: string): Promise<{ workspaceId: string; apiKeyId: string }> {
  const invalid = new AppError("invalid_api_key", "The API key is invalid or has been revoked.");
  if (!key.startsWith(API_KEY_PREFIX)) throw invalid;
  const record = await p.db.apiKey.findUnique({ where: { keyHash: hashApiKey(p.config.secret, key) } });
  if (!record || record.revokedAt) throw invalid;
  // Coarse last-used stamp: at most one write a minute per key.
  if (!record.lastUsedAt || Date.now() - record.lastUsedAt.getTime() > 60_000) {
    await p.db.apiKey.update({ where: { id: record.id }, data: { lastUsedAt: new Date() } });
  }
  return { workspaceId: record.workspaceId, apiKeyId: record.id };
}
