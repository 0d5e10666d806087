import { Prisma, type CreditEntryKind } from "@lucid/db";
import { AppError } from "./errors.ts";

type Tx = Prisma.TransactionClient;

export interface LedgerEntryInput {
  workspaceId: string;
  kind: CreditEntryKind;
  /** Signed change to the spendable balance. */
  amount: number;
  /** Unique per operation: applying the same reference twice is a no-op. */
  externalRef: string;
  reason?: string;
  jobId?: string;
}

export type LedgerResult = { applied: boolean; balance: number };

/**
 * Appends one ledger entry and moves the workspace balance with it, in the
 * caller's transaction. The conditional update takes the row lock and refuses
 * to go below zero, so concurrent reservations can never overdraw.
 */
export async function appendLedgerEntry(tx: Tx, e: LedgerEntryInput): Promise<LedgerResult> {
  const existing = await tx.creditEntry.findUnique({ where: { externalRef: e.externalRef }, select: { id: true } });
  if (existing) {
    const ws = await tx.workspace.findUniqueOrThrow({ where: { id: e.workspaceId }, select: { creditBalance: true } });
    return { applied: false, balance: ws.creditBalance };
  }
  const moved = await tx.workspace.updateMany({
    where: { id: e.workspaceId, creditBalance: { gte: Math.max(0, -e.amount) } },
    data: { creditBalance: { increment: e.amount } },
  });
  if (moved.count === 0) {
    const ws = await tx.workspace.findUnique({ where: { id: e.workspaceId }, select: { creditBalance: true } });
    if (!ws) throw new AppError("not_found", "workspace was not found");
    throw new AppError(
      "insufficient_credits",
      `This needs ${-e.amount} credits but the workspace has ${ws.creditBalance}. Buy more credits to continue.`,
    );
  }
  const ws = await tx.workspace.findUniqueOrThrow({ where: { id: e.workspaceId }, select: { creditBalance: true } });
  await tx.creditEntry.create({
    data: {
      workspaceId: e.workspaceId,
      kind: e.kind,
      amount: e.amount,
      externalRef: e.externalRef,
      reason: e.reason,
      jobId: e.jobId,
      balanceAfter: ws.creditBalance,
    },
  });
  return { applied: true, balance: ws.creditBalance };
}

/** Runs `fn` in a transaction; a concurrent duplicate of the same reference is reported as not applied. */
export async function applyOnce<T>(
  db: { $transaction: <R>(fn: (tx: Tx) => Promise<R>) => Promise<R> },
  fn: (tx: Tx) => Promise<T>,
  onDuplicate: () => Promise<T>,
): Promise<T> {
  try {
    return await db.$transaction(fn);
  } catch (err) {
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002") return onDuplicate();
    throw err;
  }
}

export async function grantCredits(
  db: { $transaction: <R>(fn: (tx: Tx) => Promise<R>) => Promise<R> },
  input: { workspaceId: string; amount: number; reason: string; externalRef: string; kind?: "grant" | "purchase" | "adjustment" },
): Promise<LedgerResult> {
  if (!Number.isInteger(input.amount) || input.amount <= 0) {
    throw new AppError("validation_failed", "amount must be a positive integer", [{ field: "amount", message: "must be a positive integer" }]);
  }
  return applyOnce(
    db,
    (tx) => appendLedgerEntry(tx, { workspaceId: input.workspaceId, kind: input.kind ?? "grant", amount: input.amount, externalRef: input.externalRef, reason: input.reason }),
    async () => ({ applied: false, balance: -1 }),
  );
}

/** Operator check: the stored balance equals the sum of the workspace's ledger entries. */
export async function findBalanceMismatches(db: Tx): Promise<Array<{ workspaceId: string; balance: number; ledgerSum: number }>> {
  const rows = await db.$queryRaw<Array<{ id: string; balance: number; ledger_sum: bigint | null }>>`
    SELECT w.id, w."creditBalance" AS balance, COALESCE(SUM(e.amount), 0) AS ledger_sum
    FROM "Workspace" w LEFT JOIN "CreditEntry" e ON e."workspaceId" = w.id
    GROUP BY w.id HAVING w."creditBalance" <> COALESCE(SUM(e.amount), 0)`;
  return rows.map((r) => ({ workspaceId: r.id, balance: r.balance, ledgerSum: Number(r.ledger_sum ?? 0) }));
}
