import type { CreditEntryKind, Role } from "@lucid/db";
import { AppError } from "./errors.ts";
import { monthStartUtc, spentThisMonth } from "./credits.ts";
import type { Platform } from "./platform.ts";

export const LEDGER_KINDS: readonly CreditEntryKind[] = ["grant", "purchase", "reserve", "capture", "release", "refund", "adjustment"];

export interface LedgerFilter {
  kind?: CreditEntryKind;
  /** Inclusive, UTC day (YYYY-MM-DD) or any Date. */
  from?: Date;
  /** Inclusive: the whole of this UTC day. */
  to?: Date;
}

export interface LedgerRow {
  id: string;
  createdAt: Date;
  kind: CreditEntryKind;
  amount: number;
  balanceAfter: number;
  reason: string | null;
  jobId: string | null;
  externalRef: string;
}

const DAY_MS = 86_400_000;
const dayOnly = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Turns untrusted query parameters (kind, from, to as YYYY-MM-DD) into a filter,
 * refusing bad values with field errors; empty values mean "no filter".
 */
export function parseLedgerFilter(q: { kind?: string | null; from?: string | null; to?: string | null }): LedgerFilter {
  const errors: Array<{ field: string; message: string }> = [];
  const filter: LedgerFilter = {};
  if (q.kind) {
    if ((LEDGER_KINDS as readonly string[]).includes(q.kind)) filter.kind = q.kind as CreditEntryKind;
    else errors.push({ field: "kind", message: `must be one of: ${LEDGER_KINDS.join(", ")}` });
  }
  for (const key of ["from", "to"] as const) {
    const v = q[key];
    if (!v) continue;
    const d = new Date(`${v}T00:00:00Z`);
    if (!dayOnly.test(v) || Number.isNaN(d.getTime())) errors.push({ field: key, message: "must be a date (YYYY-MM-DD)" });
    else filter[key] = d;
  }
  if (errors.length) throw new AppError("validation_failed", errors.map((e) => `${e.field} ${e.message}`).join("; "), errors);
  return filter;
}

function where(workspaceId: string, f: LedgerFilter) {
  return {
    workspaceId,
    ...(f.kind ? { kind: f.kind } : {}),
    ...(f.from || f.to
      ? { createdAt: { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lt: new Date(f.to.getTime() + DAY_MS) } : {}) } }
      : {}),
  };
}

const ROW_SELECT = { id: true, createdAt: true, kind: true, amount: true, balanceAfter: true, reason: true, jobId: true, externalRef: true } as const;

/** One page of the workspace's ledger, newest first. `page` counts from 1. */
export async function listLedger(
  p: Platform,
  workspaceId: string,
  filter: LedgerFilter = {},
  opts: { page?: number; pageSize?: number } = {},
): Promise<{ rows: LedgerRow[]; total: number; page: number; pageCount: number }> {
  const pageSize = Math.min(Math.max(opts.pageSize ?? 25, 1), 200);
  const [total, page] = [await p.db.creditEntry.count({ where: where(workspaceId, filter) }), Math.max(1, Math.floor(opts.page ?? 1))];
  const rows = await p.db.creditEntry.findMany({
    where: where(workspaceId, filter),
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    skip: (page - 1) * pageSize,
    take: pageSize,
    select: ROW_SELECT,
  });
  return { rows, total, page, pageCount: Math.max(1, Math.ceil(total / pageSize)) };
}

function csvField(v: string | number | null): string {
  const s = v === null ? "" : String(v);
  // Quote when needed; a leading = + - @ is defused so spreadsheets never run it as a formula.
  const safe = /^[=+\-@\t\r]/.test(s) && typeof v === "string" ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export const LEDGER_CSV_HEADER = ["created_at", "kind", "amount", "balance_after", "reason", "job_id", "reference"] as const;

/** The whole filtered ledger as CSV (RFC 4180, CRLF), oldest first, streamed in pages. */
export async function* ledgerCsv(p: Platform, workspaceId: string, filter: LedgerFilter = {}): AsyncGenerator<string> {
  yield `${LEDGER_CSV_HEADER.join(",")}\r\n`;
  let cursor: string | undefined;
  for (;;) {
    const rows = await p.db.creditEntry.findMany({
      where: where(workspaceId, filter),
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      take: 500,
      ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
      select: ROW_SELECT,
    });
    if (rows.length === 0) return;
    yield rows
      .map((r) => [r.createdAt.toISOString(), r.kind, r.amount, r.balanceAfter, r.reason, r.jobId, r.externalRef].map(csvField).join(",") + "\r\n")
      .join("");
    cursor = rows.at(-1)!.id;
  }
}

/**
 * Credits spent per UTC day over the last `days` days (today included), oldest
 * first, with days without spending as zero: reservations minus releases.
 */
export async function dailySpend(p: Platform, workspaceId: string, days = 30, now = new Date()): Promise<Array<{ day: string; credits: number }>> {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const since = new Date(today - (days - 1) * DAY_MS);
  const rows = await p.db.$queryRaw<Array<{ day: Date; spent: bigint }>>`
    SELECT date_trunc('day', "createdAt") AS day, -SUM(amount) AS spent
    FROM "CreditEntry"
    WHERE "workspaceId" = ${workspaceId}::uuid AND kind IN ('reserve', 'release') AND "createdAt" >= ${since}
    GROUP BY 1`;
  const byDay = new Map(rows.map((r) => [new Date(r.day).toISOString().slice(0, 10), Math.max(0, Number(r.spent))]));
  return Array.from({ length: days }, (_, i) => {
    const day = new Date(since.getTime() + i * DAY_MS).toISOString().slice(0, 10);
    return { day, credits: byDay.get(day) ?? 0 };
  });
}

export interface SpendSummary {
  balance: number;
  /** Credits owed after a refund (0 when the balance is not negative). */
  debt: number;
  monthlySpendLimit: number | null;
  spentThisMonth: number;
  monthStart: Date;
}

export async function spendSummary(p: Platform, workspaceId: string): Promise<SpendSummary> {
  const ws = await p.db.workspace.findUnique({ where: { id: workspaceId }, select: { creditBalance: true, monthlySpendLimit: true } });
  if (!ws) throw new AppError("not_found", "workspace was not found");
  return {
    balance: ws.creditBalance,
    debt: Math.max(0, -ws.creditBalance),
    monthlySpendLimit: ws.monthlySpendLimit,
    spentThisMonth: await spentThisMonth(p.db, workspaceId),
    monthStart: monthStartUtc(),
  };
}

/**
 * Sets the workspace's monthly spend limit (credits per calendar month, UTC);
 * null or empty removes it. Owners only.
 */
export async function setMonthlySpendLimit(
  p: Platform,
  who: { workspaceId: string; role: Role },
  input: number | string | null | undefined,
): Promise<{ monthlySpendLimit: number | null }> {
  if (who.role !== "owner") throw new AppError("forbidden", "Only an owner of the workspace can change its spend limit.");
  let limit: number | null = null;
  if (input !== null && input !== undefined && String(input).trim() !== "") {
    limit = Number(String(input).trim());
    if (!Number.isInteger(limit) || limit < 0 || limit > 1_000_000_000) {
      throw new AppError("validation_failed", "The monthly spend limit must be a whole number of credits (0 or more), or empty for no limit.", [
        { field: "monthlySpendLimit", message: "must be a whole number ≥ 0, or empty" },
      ]);
    }
  }
  await p.db.workspace.update({ where: { id: who.workspaceId }, data: { monthlySpendLimit: limit } });
  return { monthlySpendLimit: limit };
}
