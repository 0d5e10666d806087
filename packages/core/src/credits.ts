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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Entry kinds that may leave the balance below zero: money taken back, or an operator's correction. */
const MAY_CREATE_DEBT: ReadonlySet<CreditEntryKind> = new Set(["refund", "adjustment"]);

/**
 * Appends one ledger entry and moves the workspace balance with it, in the
 * caller's transaction. The workspace row is locked first, so every balance
 * move of a workspace is serialised: concurrent reservations can never
 * overdraw, and a duplicate reference is seen by whoever comes second.
 * Spending (a negative entry other than refund/adjustment) must leave the
 * balance at or above zero; the database backs this with a CHECK on
 * CreditEntry. A reservation also respects the monthly spend limit.
 */
export async function appendLedgerEntry(tx: Tx, e: LedgerEntryInput): Promise<LedgerResult> {
  if (!UUID.test(e.workspaceId)) throw new AppError("not_found", "workspace was not found");
  const [ws] = await tx.$queryRaw<Array<{ creditBalance: number; monthlySpendLimit: number | null }>>`
    SELECT "creditBalance", "monthlySpendLimit" FROM "Workspace" WHERE id = ${e.workspaceId}::uuid FOR UPDATE`;
  if (!ws) throw new AppError("not_found", "workspace was not found");
  const existing = await tx.creditEntry.findUnique({ where: { externalRef: e.externalRef }, select: { id: true } });
  if (existing) return { applied: false, balance: ws.creditBalance };

  if (e.amount < 0 && !MAY_CREATE_DEBT.has(e.kind) && ws.creditBalance + e.amount < 0) {
    throw insufficientCredits(-e.amount, ws.creditBalance);
  }
  if (e.kind === "reserve" && ws.monthlySpendLimit !== null) {
    const spent = await spentThisMonth(tx, e.workspaceId);
    if (spent - e.amount > ws.monthlySpendLimit) throw spendLimitReached(-e.amount, ws.monthlySpendLimit, spent);
  }
  const updated = await tx.workspace.update({
    where: { id: e.workspaceId },
    data: { creditBalance: { increment: e.amount } },
    select: { creditBalance: true },
  });
  await tx.creditEntry.create({
    data: {
      workspaceId: e.workspaceId,
      kind: e.kind,
      amount: e.amount,
      externalRef: e.externalRef,
      reason: e.reason,
      jobId: e.jobId,
      balanceAfter: updated.creditBalance,
    },
  });
  return { applied: true, balance: updated.creditBalance };
}

/** 402 `insufficient_credits`: spending `cost` would overdraw `balance` (or the workspace is in debt). */
export function insufficientCredits(cost: number, balance: number): AppError {
  if (balance < 0) {
    return new AppError(
      "insufficient_credits",
      `This workspace owes ${-balance} credits because a payment was refunded. New generations are refused until a purchase clears the debt.`,
    );
  }
  return new AppError("insufficient_credits", `This needs ${cost} credits but the workspace has ${balance}. Buy more credits to continue.`);
}

/** 402 `spend_limit_reached`: reserving `cost` more would pass the monthly spend limit. */
export function spendLimitReached(cost: number, limit: number, spent: number): AppError {
  return new AppError(
    "spend_limit_reached",
    `This needs ${cost} credits, but the workspace's monthly spend limit is ${limit} credits and ${spent} were spent this month (UTC). An owner can raise the limit on the billing page.`,
  );
}

/** The first instant of the current calendar month, UTC. */
export function monthStartUtc(now = new Date()): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
}

/**
 * Credits spent this calendar month (UTC): reservations minus releases. A
 * capture moves nothing (the reserve already took the credits), so this is
 * what the workspace's jobs really cost, plus what is still reserved.
 */
export async function spentThisMonth(db: Tx, workspaceId: string, now = new Date()): Promise<number> {
  const sum = await db.creditEntry.aggregate({
    _sum: { amount: true },
    where: { workspaceId, kind: { in: ["reserve", "release"] }, createdAt: { gte: monthStartUtc(now) } },
  });
  return Math.max(0, -(sum._sum.amount ?? 0));
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
