import { Prisma } from "./generated/client.ts";

/** Name of the CHECK constraint that keeps `Workspace.creditBalance` >= 0 (see the init migration). */
export const CREDIT_BALANCE_CHECK = "Workspace_creditBalance_nonnegative";

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
