import { Prisma } from "./generated/client.ts";

/**
 * Name of the CHECK constraint that keeps spending from overdrawing: a ledger
 * entry that takes credits away must leave `balanceAfter` >= 0 unless it is a
 * refund or an adjustment (see the money_operators migration; it replaced the
 * init migration's `Workspace_creditBalance_nonnegative`, since a refund may
 * leave a debt).
 */
export const CREDIT_SPEND_CHECK = "CreditEntry_spend_never_overdraws";

/**
 * True when `err` is PostgreSQL refusing a write because of a CHECK constraint
 * (SQLSTATE 23514), optionally a named one. Prisma reports these as P2039 from
 * model queries and P2010 from raw queries, with the driver's error inside.
 */
export function isCheckViolation(err: unknown, constraint?: string): boolean {
  if (!(err instanceof Prisma.PrismaClientKnownRequestError)) return false;
  const cause = (err.meta?.driverAdapterError as { cause?: { originalCode?: string; originalMessage?: string } } | undefined)
    ?.cause;
  if (cause?.originalCode !== "23514") return false;
  return constraint === undefined || (cause.originalMessage ?? "").includes(`"${constraint}"`);
}
