import { NextResponse } from "next/server";
import {
  AppError,
  LimitExceededError,
  authenticateApiKey,
  beginIdempotentRequest,
  completeIdempotentRequest,
  consumeRequest,
  planLimits,
  releaseIdempotencyKey,
  requestFingerprint,
  requireScope,
  resolveSession,
  type RateLimitState,
} from "@lucid/core";
import { API_KEY_SCOPES, type ApiKeyScope, type Problem } from "@lucid/contracts";
import { platform } from "./platform.ts";

const TITLES: Record<string, string> = {
  validation_failed: "Invalid request",
  invalid_json: "Invalid JSON",
  unauthenticated: "Authentication required",
  invalid_api_key: "Invalid API key",
  api_key_revoked: "API key revoked",
  api_key_expired: "API key expired",
  insufficient_scope: "Insufficient scope",
  key_credit_cap_exceeded: "API key credit cap reached",
  idempotency_key_reused: "Idempotency key reused",
  idempotency_request_in_progress: "Idempotent request in progress",
  rate_limited: "Too many requests",
  too_many_in_flight_jobs: "Too many generations in flight",
  insufficient_credits: "Not enough credits",
  spend_limit_reached: "Monthly spend limit reached",
  not_found: "Not found",
  internal: "Internal error",
};

export function problem(code: string, status: number, detail: string, errors?: Problem["errors"]): NextResponse {
  const body: Problem = {
    type: `https://lucid.dev/errors/${code}`,
    title: TITLES[code] ?? code.replace(/_/g, " "),
    status,
    detail,
    code,
    ...(errors?.length ? { errors } : {}),
  };
  return NextResponse.json(body, { status, headers: { "content-type": "application/problem+json" } });
}

/** Maps any thrown error to problem JSON; unknown errors become a 500 that hides internals. */
export function errorResponse(err: unknown): NextResponse {
  if (err instanceof LimitExceededError) {
    const res = problem(err.code, err.status, err.message, err.fields);
    res.headers.set("retry-after", String(err.retryAfterSeconds));
    return withRateLimitHeaders(res, err.rate);
  }
  if (err instanceof AppError) return problem(err.code, err.status, err.message, err.fields);
  console.error(err);
  return problem("internal", 500, "Something went wrong on our side. Nothing was charged.");
}

export async function readJson(req: Request): Promise<unknown> {
  try {
    return await req.json();
  } catch {
    throw new AppError("invalid_json", "The request body must be valid JSON.", [{ field: "body", message: "is not valid JSON" }]);
  }
}

export interface Caller {
  workspaceId: string;
  userId?: string;
  apiKeyId?: string;
  source: "web" | "api";
  /** What the caller may do: a key's scopes; a session holds them all. */
  scopes: readonly ApiKeyScope[];
  /** The key's request-rate state after this request (API keys only; sessions have no per-key rate). */
  rate?: RateLimitState;
}

/**
 * An API caller: a bearer API key (counted against its per-minute rate, 429
 * `rate_limited` past it), or the studio's session cookie (all scopes, no
 * per-key rate; the workspace's in-flight job limit still applies at submit).
 */
export async function authenticate(req: Request): Promise<Caller> {
  const p = platform();
  const auth = req.headers.get("authorization");
  if (auth) {
    const m = /^Bearer\s+(\S+)$/i.exec(auth);
    if (!m) throw new AppError("invalid_api_key", "Authorization must be 'Bearer <api key>'.");
    const key = await authenticateApiKey(p, m[1]!);
    const rate = await consumeRequest(p, key.apiKeyId, key.rateLimitPerMinute ?? planLimits(p, key.plan).requestsPerMinute);
    return { workspaceId: key.workspaceId, apiKeyId: key.apiKeyId, source: "api", scopes: key.scopes, rate };
  }
  const viewer = await resolveSession(p, req.headers);
  if (!viewer) throw new AppError("unauthenticated", "Send an API key as 'Authorization: Bearer <key>'.");
  return { workspaceId: viewer.workspace.id, userId: viewer.user.id, source: "web", scopes: API_KEY_SCOPES };
}

export interface ApiRouteOptions {
  /** The scope an API key needs (403 `insufficient_scope` without it). */
  scope?: ApiKeyScope;
  /** Honour `Idempotency-Key` (POSTs that create or change something). */
  idempotent?: boolean;
}

/**
 * Wraps a route handler: auth (and the key's rate limit), scope, idempotency,
 * then the handler, with errors mapped once and `RateLimit-*` headers on
 * every answer to an API key.
 */
export function apiRoute<C>(handler: (req: Request, caller: Caller, ctx: C) => Promise<Response>, opts: ApiRouteOptions = {}) {
  return async (req: Request, ctx: C): Promise<Response> => {
    let rate: RateLimitState | undefined;
    try {
      const caller = await authenticate(req);
      rate = caller.rate;
      if (opts.scope) requireScope(caller.scopes, opts.scope);
      const run = () => handler(req, caller, ctx);
      return withRateLimitHeaders(opts.idempotent ? await idempotently(req, caller, run) : await run(), rate);
    } catch (err) {
      return withRateLimitHeaders(errorResponse(err), rate);
    }
  };
}

/** `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds), IETF draft names. */
export function withRateLimitHeaders<R extends Response>(res: R, rate: RateLimitState | undefined): R {
  if (!rate) return res;
  res.headers.set("ratelimit-limit", String(rate.limit));
  res.headers.set("ratelimit-remaining", String(rate.remaining));
  res.headers.set("ratelimit-reset", String(rate.resetSeconds));
  res.headers.set("ratelimit-policy", `${rate.limit};w=60`);
  return res;
}

/** Response headers worth replaying with an idempotent response. */
const REPLAYED_HEADERS = ["content-type", "location", "preference-applied", "x-should-retry"];

/**
 * Runs `work` at most once per `Idempotency-Key` (and workspace): a retry gets
 * the first response again with `Idempotent-Replayed: true`. When `work`
 * throws (validation, limits, …) nothing is kept, so a corrected retry runs.
 */
export async function idempotently(req: Request, caller: Caller, work: () => Promise<Response>): Promise<Response> {
  const key = req.headers.get("idempotency-key");
  if (key === null) return work();
  const p = platform();
  const body = await req.clone().text();
  const start = await beginIdempotentRequest(p, caller.workspaceId, key, requestFingerprint(req.method, new URL(req.url).pathname, body));
  if (start.kind === "replay") {
    const { status, body: replayBody, headers } = start.response;
    return new NextResponse(replayBody, { status, headers: { ...headers, "idempotent-replayed": "true" } });
  }
  let res: Response;
  try {
    res = await work();
  } catch (err) {
    await releaseIdempotencyKey(p, start.recordId);
    throw err;
  }
  const text = await res.text();
  const headers = Object.fromEntries(REPLAYED_HEADERS.flatMap((h) => (res.headers.has(h) ? [[h, res.headers.get(h)!]] : [])));
  await completeIdempotentRequest(p, start.recordId, { status: res.status, body: text, headers });
  return new NextResponse(text, { status: res.status, headers: res.headers });
}
