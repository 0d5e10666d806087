import pg from "pg";
import { DEFAULT_PLAN, type Plan, type ResolvedGenerationRequest } from "@lucid/contracts";
import type { DbTransaction, Job, JobSource } from "@lucid/db";
import { insufficientCredits, monthStartUtc, spendLimitReached } from "./credits.ts";
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
/** Counters of one window must outlive the next one, which weighs them in. */
const COUNTER_TTL_MS = 2 * WINDOW_MS;
/** How often a process deletes long-expired request counters. */
const PURGE_EVERY_MS = 5 * 60_000;

interface RequestPathDb {
  pool: pg.Pool;
  lastPurge: number;
}
const requestPathDbs = new WeakMap<Platform, RequestPathDb>();

// PostgreSQL `timestamp` (no zone) holds UTC here, as Prisma writes it; node-postgres would read it as local time.
const TIMESTAMP_OID = 1114;
const parseUtcTimestamp = (v: string) => new Date(`${v.replace(" ", "T")}Z`);
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === TIMESTAMP_OID && format !== "binary" ? parseUtcTimestamp : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

function requestPath(p: Platform): RequestPathDb {
  let db = requestPathDbs.get(p);
  if (!db) {
    const pool = new pg.Pool({ connectionString: p.config.databaseUrl, max: 20, allowExitOnIdle: true, types });
    pool.on("error", () => undefined); // an idle client losing its server must not crash the process
    db = { pool, lastPurge: Date.now() };
    requestPathDbs.set(p, db);
  }
  return db;
}

/**
 * Plain node-postgres connections for the few statements every API request
 * makes (the request counter, the key lookup, submit admission, the queue
 * position): through the ORM each costs the web process two to three times the
 * CPU, and on a busy server that CPU is the limit. Rows come back typed like
 * Prisma's (UTC dates, parsed JSON, enums as strings). Pass dates as ISO strings.
 */
export function requestPathSql(p: Platform): pg.Pool {
  return requestPath(p).pool;
}

/** Closes the request-path connections (tests, shutdown). */
export async function closeRateLimiter(p: Platform): Promise<void> {
  const db = requestPathDbs.get(p);
  requestPathDbs.delete(p);
  await db?.pool.end();
}

/**
 * Counts one request of an API key against `limit` requests per minute with a
 * sliding window: the previous minute's count weighs in by the share of it
 * still inside the last 60 s (the sliding-window-counter estimate), so a burst
 * at a window edge cannot double the rate. A refused request is not counted.
 * Throws `rate_limited` (429) with the seconds until a request would pass.
 * Counters live in PostgreSQL (`rate_limit_counters`, the layout
 * rate-limiter-flexible also uses for the sign-in limits), so the limit holds
 * across any number of web instances.
 */
export async function consumeRequest(p: Platform, subject: string, limit: number, now = Date.now()): Promise<RateLimitState> {
  const store = requestPath(p);
  const window = Math.floor(now / WINDOW_MS);
  const elapsed = now - window * WINDOW_MS;
  const currentKey = `req:${subject}:${window}`;
  // One statement: count this request in the current window (a counter past its
  // expiry starts again) and read the previous window's count.
  const { rows } = await store.pool.query<{ current: number; previous: number | null }>(
    `WITH counted AS (
       INSERT INTO "rate_limit_counters" ("key", "points", "expire") VALUES ($1, 1, $3)
       ON CONFLICT ("key") DO UPDATE SET
         "points" = CASE WHEN "rate_limit_counters"."expire" <= $4 THEN 1 ELSE "rate_limit_counters"."points" + 1 END,
         "expire" = CASE WHEN "rate_limit_counters"."expire" <= $4 THEN $3 ELSE "rate_limit_counters"."expire" END
       RETURNING "points")
     SELECT counted."points" AS current,
       (SELECT c."points" FROM "rate_limit_counters" c WHERE c."key" = $2 AND (c."expire" > $4 OR c."expire" IS NULL)) AS previous
     FROM counted`,
    [currentKey, `req:${subject}:${window - 1}`, now + COUNTER_TTL_MS, now],
  );
  if (Date.now() - store.lastPurge > PURGE_EVERY_MS) {
    store.lastPurge = Date.now();
    // Best effort, off the request's path: a failed purge is retried next time.
    store.pool.query(`DELETE FROM "rate_limit_counters" WHERE "key" LIKE 'req:%' AND "expire" < $1`, [store.lastPurge]).catch(() => undefined);
  }
  const cur = rows[0]!.current;
  const prev = rows[0]!.previous ?? 0;
  const weight = 1 - elapsed / WINDOW_MS;
  const estimate = prev * weight + cur;
  const resetSeconds = Math.max(1, Math.ceil((WINDOW_MS - elapsed) / 1000));
  if (estimate > limit) {
    await store.pool.query(`UPDATE "rate_limit_counters" SET "points" = "points" - 1 WHERE "key" = $1`, [currentKey]);
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

/** Credits a key's jobs hold this calendar month (UTC): reserved minus released (failed/canceled jobs give theirs back). */
export async function keyCreditsThisMonth(db: Pick<DbTransaction, "job">, apiKeyId: string, now = new Date()): Promise<number> {
  const sum = await db.job.aggregate({
    where: { apiKeyId, createdAt: { gte: monthStartUtc(now) } },
    _sum: { creditsReserved: true, creditsReleased: true },
  });
  return (sum._sum.creditsReserved ?? 0) - (sum._sum.creditsReleased ?? 0);
}

/** How long a refused submit should wait: jobs take seconds, so a short pause. */
const IN_FLIGHT_RETRY_AFTER_S = 5;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A job to accept: everything `admitJob` records for it. */
export interface JobAdmission {
  jobId: string;
  workspaceId: string;
  userId?: string;
  apiKeyId?: string;
  source: JobSource;
  request: ResolvedGenerationRequest;
  model: string;
  cost: number;
  progressTotal: number;
}

type AdmissionRow = Partial<Job> & {
  outcome: "accepted" | "workspace_not_found" | "too_many_in_flight_jobs" | "key_credit_cap_exceeded" | "insufficient_credits" | "spend_limit_reached";
  detail: Record<string, number | string> | null;
};

/**
 * Accepts a job, or refuses it with nothing changed: in ONE statement (the
 * `lucid_submit_job` function, see the submit_job_function migration), so the
 * workspace row lock that serialises a workspace's submits, on any instance,
 * is held for a single round trip. Under the lock: the plan's limit on jobs
 * queued or running (429 `too_many_in_flight_jobs`, from the trigger-kept
 * `Workspace.jobsInFlight`), the key's monthly credit cap (403
 * `key_credit_cap_exceeded`), the balance (402 `insufficient_credits`; the
 * debit is conditional and the CreditEntry CHECK backs it), the monthly spend
 * limit (402 `spend_limit_reached`); then the debit, the reserve ledger entry
 * (`job:<id>:reserve`, fresh with the job id) and the job row.
 */
export async function admitJob(p: Platform, a: JobAdmission): Promise<Job & { queuePosition: number }> {
  if (!UUID.test(a.workspaceId)) throw new AppError("not_found", "workspace was not found");
  const maxInFlight = Object.fromEntries(Object.keys(p.config.plans).map((plan) => [plan, planLimits(p, plan).maxInFlightJobs]));
  const { rows } = await requestPathSql(p).query<AdmissionRow>(
    `SELECT r.outcome, r.detail, (r.job).*
     FROM lucid_submit_job($1::uuid, $2::uuid, $3::uuid, $4::uuid, $5::"JobSource", $6::jsonb, $7, $8::integer, $9::integer,
                           $10, $11::jsonb, $12::integer, $13::timestamp(3)) AS r`,
    [
      a.jobId,
      a.workspaceId,
      a.userId ?? null,
      a.apiKeyId ?? null,
      a.source,
      JSON.stringify(a.request),
      a.model,
      a.cost,
      a.progressTotal,
      `Reserved for generation ${a.jobId}`,
      JSON.stringify(maxInFlight),
      planLimits(p, DEFAULT_PLAN).maxInFlightJobs,
      monthStartUtc().toISOString(),
    ],
  );
  const { outcome, detail, ...job } = rows[0]!;
  const d = detail ?? {};
  switch (outcome) {
    case "accepted":
      // Counted in the same statement (see the submit_job_queue_position migration).
      return { ...(job as Job), queuePosition: Number(d.queuePosition) };
    case "workspace_not_found":
      throw new AppError("not_found", "workspace was not found");
    case "too_many_in_flight_jobs":
      throw new LimitExceededError(
        "too_many_in_flight_jobs",
        `This workspace already has ${d.inFlight} generations queued or running (the limit is ${d.maxInFlight}). Retry when one finishes.`,
        IN_FLIGHT_RETRY_AFTER_S,
      );
    case "key_credit_cap_exceeded":
      throw new AppError(
        "key_credit_cap_exceeded",
        `The API key "${d.keyName}" may use ${d.cap} credits per month (UTC); it has used ${d.used} and this generation costs ${a.cost}.`,
      );
    case "insufficient_credits":
      throw insufficientCredits(a.cost, Number(d.balance));
    case "spend_limit_reached":
      throw spendLimitReached(a.cost, Number(d.limit), Number(d.spent));
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
