import pg from "pg";
import { RateLimiterPostgres } from "rate-limiter-flexible";
import { DEFAULT_PLAN, type Plan } from "@lucid/contracts";
import type { DbTransaction } from "@lucid/db";
import { AppError } from "./errors.ts";
import type { Platform } from "./platform.ts";

/** What the `RateLimit-*` headers report: the limit, what is left, seconds until it refills. */
export interface RateLimitState {
  limit: number;
  remaining: number;
  resetSeconds: number;
}

/** A 429: the request was refused by a limit; retry after `retryAfterSeconds`. */
export class LimitExceededError extends AppError {
  constructor(
    code: "rate_limited" | "too_many_in_flight_jobs",
    message: string,
    readonly retryAfterSeconds: number,
    readonly rate?: RateLimitState,
  ) {
    super(code, message);
  }
}

/** The limits of a plan; an unknown plan name falls back to the default plan. */
export function planLimits(p: Pick<Platform, "config">, plan: string | null | undefined): Plan {
  const plans = p.config.plans;
  return plans[plan ?? DEFAULT_PLAN] ?? plans[DEFAULT_PLAN] ?? { requestsPerMinute: 60, maxInFlightJobs: 10 };
}

const WINDOW_MS = 60_000;

interface RateStore {
  pool: pg.Pool;
  limiter: RateLimiterPostgres;
}
const stores = new WeakMap<Platform, RateStore>();

/**
 * rate-limiter-flexible's PostgreSQL store on its own small pool (the table is
 * created by our migrations): counters live in the database, so the limit holds
 * across any number of web instances.
 */
function rateStore(p: Platform): RateStore {
  let store = stores.get(p);
  if (!store) {
    const pool = new pg.Pool({ connectionString: p.config.databaseUrl, max: 10, allowExitOnIdle: true });
    pool.on("error", () => undefined); // an idle client losing its server must not crash the process
    const limiter = new RateLimiterPostgres({
      storeClient: pool,
      tableName: "rate_limit_counters",
      tableCreated: true,
      clearExpiredByTimeout: true,
      keyPrefix: "req",
      // Counters of one window must outlive the next one, which weighs them in.
      duration: (2 * WINDOW_MS) / 1000,
      points: Number.MAX_SAFE_INTEGER, // we decide; the store only counts
    });
    store = { pool, limiter };
    stores.set(p, store);
  }
  return store;
}

/** Closes the rate limiter's connections (tests, shutdown). */
export async function closeRateLimiter(p: Platform): Promise<void> {
  const store = stores.get(p);
  stores.delete(p);
  await store?.pool.end();
}

/**
 * Counts one request of an API key against `limit` requests per minute with a
 * sliding window: the previous minute's count weighs in by the share of it
 * still inside the last 60 s (the sliding-window-counter estimate), so a burst
 * at a window edge cannot double the rate. A refused request is not counted.
 * Throws `rate_limited` (429) with the seconds until a request would pass.
 */
export async function consumeRequest(p: Platform, subject: string, limit: number, now = Date.now()): Promise<RateLimitState> {
  const { limiter } = rateStore(p);
  const window = Math.floor(now / WINDOW_MS);
  const elapsed = now - window * WINDOW_MS;
  const [current, previous] = await Promise.all([limiter.penalty(`${subject}:${window}`, 1), limiter.get(`${subject}:${window - 1}`)]);
  const cur = current.consumedPoints;
  const prev = previous?.consumedPoints ?? 0;
  const weight = 1 - elapsed / WINDOW_MS;
  const estimate = prev * weight + cur;
  const resetSeconds = Math.max(1, Math.ceil((WINDOW_MS - elapsed) / 1000));
  if (estimate > limit) {
    await limiter.reward(`${subject}:${window}`, 1);
    const retryAfter = secondsUntilBelow(limit, prev, cur - 1, elapsed);
    throw new LimitExceededError(
      "rate_limited",
      `Too many requests: this key may make ${limit} requests per minute. Retry after ${retryAfter} s.`,
      retryAfter,
      { limit, remaining: 0, resetSeconds: retryAfter },
    );
  }
  return { limit, remaining: Math.max(0, Math.floor(limit - estimate)), resetSeconds };
}

/** Seconds until one more request fits: when prev·(1 − t/W) + cur ≤ limit − 1. */
function secondsUntilBelow(limit: number, prev: number, cur: number, elapsed: number): number {
  const need = prev + cur - (limit - 1); // how much of prev must slide out
  let ms: number;
  if (prev > 0 && need <= prev) ms = Math.max(0, (need / prev) * WINDOW_MS - elapsed);
  else ms = WINDOW_MS - elapsed + (cur > 0 ? Math.max(0, ((cur - (limit - 1)) / cur) * WINDOW_MS) : 0);
  return Math.max(1, Math.ceil(ms / 1000));
}

/** The first instant of the current calendar month, UTC. */
function utcMonthStart(now = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

/** Credits a key's jobs hold this calendar month (UTC): reserved minus released (failed/canceled jobs give theirs back). */
export async function keyCreditsThisMonth(db: Pick<DbTransaction, "job">, apiKeyId: string, now = new Date()): Promise<number> {
  const sum = await db.job.aggregate({
    where: { apiKeyId, createdAt: { gte: utcMonthStart(now) } },
    _sum: { creditsReserved: true, creditsReleased: true },
  });
  return (sum._sum.creditsReserved ?? 0) - (sum._sum.creditsReleased ?? 0);
}

/** How long a refused submit should wait: jobs take seconds, so a short pause. */
const IN_FLIGHT_RETRY_AFTER_S = 5;

/**
 * Admission of a new job, inside the submit transaction: the workspace row is
 * locked first, so concurrent submits of one workspace (on any instance) are
 * counted one after another. Refuses when the workspace already has its plan's
 * number of jobs queued or running (429 `too_many_in_flight_jobs`), or when the
 * job would take the key past its monthly credit cap (403 `key_credit_cap_exceeded`).
 */
export async function admitJob(p: Pick<Platform, "config">, tx: DbTransaction, who: { workspaceId: string; apiKeyId?: string }, cost: number): Promise<void> {
  // One round trip: lock the workspace row (FOR UPDATE returns its newest version, so the
  // trigger-kept count includes the jobs of submits that held the lock before us) and read the key's cap.
  const rows = await tx.$queryRaw<Array<{ plan: string; in_flight: number; cap: number | null; key_name: string | null }>>`
    SELECT w."plan", w."jobsInFlight" AS in_flight, k."monthlyCreditCap" AS cap, k."name" AS key_name
    FROM "Workspace" w LEFT JOIN "ApiKey" k ON k."id" = ${who.apiKeyId ?? null}::uuid
    WHERE w."id" = ${who.workspaceId}::uuid
    FOR UPDATE OF w`;
  const row = rows[0];
  const { maxInFlightJobs } = planLimits(p, row?.plan);
  const inFlight = Number(row?.in_flight ?? 0);
  if (inFlight >= maxInFlightJobs) {
    throw new LimitExceededError(
      "too_many_in_flight_jobs",
      `This workspace already has ${inFlight} generations queued or running (the limit is ${maxInFlightJobs}). Retry when one finishes.`,
      IN_FLIGHT_RETRY_AFTER_S,
    );
  }
  if (!who.apiKeyId || row?.cap == null) return;
  const used = await keyCreditsThisMonth(tx, who.apiKeyId);
  if (used + cost > row.cap) {
    throw new AppError(
      "key_credit_cap_exceeded",
      `The API key "${row.key_name}" may use ${row.cap} credits per month (UTC); it has used ${used} and this generation costs ${cost}.`,
    );
  }
}

/** Puts a workspace on a plan named in the config (DEFAULT_PLANS / LUCID_PLANS). */
export async function setWorkspacePlan(p: Platform, workspaceId: string, plan: string): Promise<void> {
  if (!p.config.plans[plan]) {
    throw new AppError("validation_failed", `unknown plan "${plan}"; configured: ${Object.keys(p.config.plans).join(", ")}`, [
      { field: "plan", message: "is not a configured plan" },
    ]);
  }
  const r = await p.db.workspace.updateMany({ where: { id: workspaceId }, data: { plan } });
  if (r.count === 0) throw new AppError("not_found", `workspace ${workspaceId} was not found`);
}
