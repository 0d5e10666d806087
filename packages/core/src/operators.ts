import { randomUUID } from "node:crypto";
import { AppError } from "./errors.ts";
import { appendLedgerEntry } from "./credits.ts";
import type { Platform } from "./platform.ts";

/**
 * Operators run the service: they can look into any workspace and correct its
 * credits. The flag is set only from the CLI (`operators:grant`), never from the
 * web, and every change they make is written to the audit log with a reason.
 */

export async function grantOperator(p: Platform, email: string): Promise<{ userId: string; email: string }> {
  const user = await p.db.user.findUnique({ where: { email: email.trim().toLowerCase() }, select: { id: true, email: true } });
  if (!user) throw new AppError("not_found", `no user with email ${email}`);
  await p.db.user.update({ where: { id: user.id }, data: { operator: true } });
  return { userId: user.id, email: user.email };
}

export async function revokeOperator(p: Platform, email: string): Promise<void> {
  const r = await p.db.user.updateMany({ where: { email: email.trim().toLowerCase() }, data: { operator: false } });
  if (r.count === 0) throw new AppError("not_found", `no user with email ${email}`);
}

export async function isOperator(p: Platform, userId: string | undefined | null): Promise<boolean> {
  if (!userId) return false;
  const u = await p.db.user.findUnique({ where: { id: userId }, select: { operator: true } });
  return u?.operator === true;
}

/** Non-operators get `not_found`: the admin area does not admit it exists. */
export async function requireOperator(p: Platform, userId: string | undefined | null): Promise<{ id: string; email: string }> {
  const u = userId ? await p.db.user.findUnique({ where: { id: userId }, select: { id: true, email: true, operator: true } }) : null;
  if (!u?.operator) throw new AppError("not_found", "page was not found");
  return { id: u.id, email: u.email };
}

export interface WorkspaceSummary {
  id: string;
  name: string;
  kind: "personal" | "team";
  creditBalance: number;
  monthlySpendLimit: number | null;
  members: Array<{ email: string; role: string }>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Workspaces matching a workspace id, or a member's email (exact, or a part of it). */
export async function findWorkspaces(p: Platform, operatorId: string, query: string): Promise<WorkspaceSummary[]> {
  await requireOperator(p, operatorId);
  const q = query.trim();
  if (!q) return [];
  const rows = await p.db.workspace.findMany({
    where: UUID.test(q)
      ? { id: q }
      : { memberships: { some: { user: { email: { contains: q.toLowerCase(), mode: "insensitive" } } } } },
    take: 20,
    orderBy: { createdAt: "asc" },
    select: {
      id: true,
      name: true,
      kind: true,
      creditBalance: true,
      monthlySpendLimit: true,
      memberships: { select: { role: true, user: { select: { email: true } } } },
    },
  });
  return rows.map((w) => ({
    id: w.id,
    name: w.name,
    kind: w.kind,
    creditBalance: w.creditBalance,
    monthlySpendLimit: w.monthlySpendLimit,
    members: w.memberships.map((m) => ({ email: m.user.email, role: m.role })),
  }));
}

export type OperatorCreditAction = "grant" | "adjustment";

/**
 * Grants (positive) or adjusts (either sign) a workspace's credits, with the
 * ledger entry and its audit row in one transaction. An adjustment may leave a
 * debt (e.g. reversing credits granted by mistake); a grant must be positive.
 */
export async function operatorAdjustCredits(
  p: Platform,
  operatorId: string,
  input: { workspaceId: string; action: OperatorCreditAction; amount: number | string; reason: string },
): Promise<{ balance: number; auditLogId: string; creditEntryId: string }> {
  const operator = await requireOperator(p, operatorId);
  const amount = Number(String(input.amount).trim());
  const reason = String(input.reason ?? "").trim();
  const errors: Array<{ field: string; message: string }> = [];
  if (input.action !== "grant" && input.action !== "adjustment") errors.push({ field: "action", message: "must be grant or adjustment" });
  if (!Number.isInteger(amount) || amount === 0 || Math.abs(amount) > 1_000_000_000) errors.push({ field: "amount", message: "must be a non-zero whole number" });
  else if (input.action === "grant" && amount < 0) errors.push({ field: "amount", message: "a grant must be positive; use an adjustment to take credits away" });
  if (reason.length < 3) errors.push({ field: "reason", message: "is required (at least 3 characters)" });
  if (errors.length) throw new AppError("validation_failed", errors.map((e) => `${e.field} ${e.message}`).join("; "), errors);

  const ref = `operator:${randomUUID()}`;
  return p.db.$transaction(async (tx) => {
    const r = await appendLedgerEntry(tx, {
      workspaceId: input.workspaceId,
      kind: input.action,
      amount,
      externalRef: ref,
      reason: `${input.action === "grant" ? "Granted" : "Adjusted"} by operator ${operator.email}: ${reason}`,
    });
    const entry = await tx.creditEntry.findUniqueOrThrow({ where: { externalRef: ref }, select: { id: true } });
    const audit = await tx.auditLog.create({
      data: {
        actorUserId: operator.id,
        actorEmail: operator.email,
        workspaceId: input.workspaceId,
        action: `credits.${input.action}`,
        amount,
        reason,
        creditEntryId: entry.id,
      },
      select: { id: true },
    });
    return { balance: r.balance, auditLogId: audit.id, creditEntryId: entry.id };
  });
}

export interface AuditRow {
  id: string;
  createdAt: Date;
  actorEmail: string;
  workspaceId: string;
  action: string;
  amount: number | null;
  reason: string;
}

/** The audit log, newest first; one workspace's when `workspaceId` is given. */
export async function listAuditLog(p: Platform, operatorId: string, opts: { workspaceId?: string; limit?: number } = {}): Promise<AuditRow[]> {
  await requireOperator(p, operatorId);
  return p.db.auditLog.findMany({
    where: opts.workspaceId ? { workspaceId: opts.workspaceId } : {},
    orderBy: { createdAt: "desc" },
    take: Math.min(opts.limit ?? 50, 500),
    select: { id: true, createdAt: true, actorEmail: true, workspaceId: true, action: true, amount: true, reason: true },
  });
}
