import { RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";
import type { PrismaClient } from "@lucid/db";
import { AppError } from "./errors.ts";
import { signIn, type StartedSession } from "./accounts.ts";
import type { Platform } from "./platform.ts";

/** Failed sign-ins allowed per window before further attempts are refused. */
export const SIGN_IN_LIMITS = {
  perAccount: { failures: 5, windowSeconds: 15 * 60 },
  perIp: { failures: 20, windowSeconds: 15 * 60 },
} as const;

/**
 * rate-limiter-flexible's PostgreSQL store speaks to a `pg`-style client; this
 * one runs its statements through the platform's Prisma connection pool
 * (the `rate_limit_counters` table comes from a migration).
 */
export function prismaRateLimitStore(db: PrismaClient) {
  return {
    async query(q: { text: string; values?: unknown[] }) {
      const values = q.values ?? [];
      if (/^\s*DELETE\b/i.test(q.text)) return { rows: [], rowCount: await db.$executeRawUnsafe(q.text, ...values) };
      const rows = await db.$queryRawUnsafe<Array<{ points: number | bigint; expire: number | bigint | null }>>(q.text, ...values);
      // BIGINT arrives as a BigInt; the library does arithmetic with numbers.
      return { rowCount: rows.length, rows: rows.map((r) => ({ points: Number(r.points), expire: r.expire === null ? null : Number(r.expire) })) };
    },
  };
}

const limiterCache = new WeakMap<PrismaClient, { account: RateLimiterPostgres; ip: RateLimiterPostgres }>();

function limiters(p: Platform) {
  let l = limiterCache.get(p.db);
  if (!l) {
    const store = { storeClient: prismaRateLimitStore(p.db), storeType: "client", tableName: "rate_limit_counters", tableCreated: true };
    l = {
      account: new RateLimiterPostgres({ ...store, keyPrefix: "signin_fail_account", points: SIGN_IN_LIMITS.perAccount.failures, duration: SIGN_IN_LIMITS.perAccount.windowSeconds }),
      ip: new RateLimiterPostgres({ ...store, keyPrefix: "signin_fail_ip", points: SIGN_IN_LIMITS.perIp.failures, duration: SIGN_IN_LIMITS.perIp.windowSeconds }),
    };
    limiterCache.set(p.db, l);
  }
  return l;
}

const minutes = (ms: number) => Math.max(1, Math.ceil(ms / 60_000));

function tooMany(ms: number): AppError {
  const n = minutes(ms);
  return new AppError("too_many_attempts", `Too many sign-in attempts. Try again in ${n} minute${n === 1 ? "" : "s"}.`);
}

/**
 * Sign-in with brute-force protection: refused once an account (by email,
 * whether or not it exists, so the answer never tells) or an IP address has
 * too many recent failures. A success clears the account's counter.
 */
export async function signInProtected(p: Platform, input: unknown, ctx: { ip: string; headers?: Headers }): Promise<StartedSession> {
  const { account, ip } = limiters(p);
  const raw = (input ?? {}) as { email?: unknown };
  const accountKey = String(raw.email ?? "").trim().toLowerCase();
  const [byAccount, byIp] = await Promise.all([account.get(accountKey), ip.get(ctx.ip)]);
  const blocked = [
    byAccount && byAccount.consumedPoints >= SIGN_IN_LIMITS.perAccount.failures ? byAccount.msBeforeNext : 0,
    byIp && byIp.consumedPoints >= SIGN_IN_LIMITS.perIp.failures ? byIp.msBeforeNext : 0,
  ];
  if (Math.max(...blocked) > 0) throw tooMany(Math.max(...blocked));
  try {
    const user = await signIn(p, input, { headers: ctx.headers });
    if (byAccount) await account.delete(accountKey);
    return user;
  } catch (err) {
    if (err instanceof AppError && err.code === "invalid_credentials") {
      // The failure that reaches the limit still answers "incorrect"; the next attempt is refused.
      await Promise.all([account.consume(accountKey), ip.consume(ctx.ip)].map((c) => c.catch((e) => (e instanceof RateLimiterRes ? e : Promise.reject(e)))));
    }
    throw err;
  }
}
