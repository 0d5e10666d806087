import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import {
  AppError,
  findBalanceMismatches,
  findWorkspaces,
  isOperator,
  listAuditLog,
  operatorAdjustCredits,
  requireOperator,
  signUp,
  submitGeneration,
  type Platform,
} from "@lucid/core";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

describe("operators: granted from the CLI, adjust credits with a reason, every change audited", () => {
  let t: TestPlatform;
  let p: Platform;
  before(async () => {
    t = await startTestPlatform();
    p = t.platform;
  });
  after(async () => t?.stop());

  const notFound = (e: unknown) => e instanceof AppError && e.code === "not_found";

  it("refuses non-operators everything, as if the admin area did not exist", async () => {
    const mallory = await signUp(p, { email: "mallory@example.com", password: "password123" });
    const victim = await signUp(p, { email: "victim@example.com", password: "password123" });
    assert.equal(await isOperator(p, mallory.id), false);
    await assert.rejects(requireOperator(p, mallory.id), notFound);
    await assert.rejects(requireOperator(p, undefined), notFound);
    await assert.rejects(findWorkspaces(p, mallory.id, "victim@example.com"), notFound);
    await assert.rejects(listAuditLog(p, mallory.id), notFound);
    await assert.rejects(
      operatorAdjustCredits(p, mallory.id, { workspaceId: victim.workspaceId, action: "grant", amount: 1000, reason: "free money" }),
      notFound,
    );
    assert.equal((await p.db.workspace.findUniqueOrThrow({ where: { id: victim.workspaceId } })).creditBalance, 50);
    assert.equal(await p.db.auditLog.count(), 0);
  });

  it("an operator finds a workspace by member email or id, grants and adjusts with reasons, and the audit log records who, what, when, why", async () => {
    const op = await signUp(p, { email: "ops@example.com", password: "password123" });
    const customer = await signUp(p, { email: "customer@example.com", password: "password123" });
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "apps/cli/src/main.ts", "operators:grant", "--email", "ops@example.com"], {
      cwd: ROOT,
      env: { ...process.env, ...t.env },
    });
    assert.match(stdout, /ops@example.com is now an operator/);
    assert.equal(await isOperator(p, op.id), true);

    const byEmail = await findWorkspaces(p, op.id, "CUSTOMER@example");
    assert.deepEqual(byEmail.map((w) => [w.id, w.creditBalance, w.members[0]?.email]), [[customer.workspaceId, 50, "customer@example.com"]]);
    assert.deepEqual((await findWorkspaces(p, op.id, customer.workspaceId)).map((w) => w.id), [customer.workspaceId]);

    const before = new Date();
    const g = await operatorAdjustCredits(p, op.id, { workspaceId: customer.workspaceId, action: "grant", amount: "25", reason: "Support ticket 42: failed batch" });
    assert.equal(g.balance, 75);
    const a = await operatorAdjustCredits(p, op.id, { workspaceId: customer.workspaceId, action: "adjustment", amount: -100, reason: "Chargeback on invoice 7" });
    assert.equal(a.balance, -25, "an adjustment may leave a debt");
    await assert.rejects(submitGeneration(p, { workspaceId: customer.workspaceId, source: "api" }, { prompt: "x", width: 64, height: 64, steps: 4 }), /owes 25 credits/);

    for (const bad of [
      { action: "grant" as const, amount: -5, reason: "negative grant" },
      { action: "adjustment" as const, amount: 0, reason: "nothing" },
      { action: "adjustment" as const, amount: 1.5, reason: "fraction" },
      { action: "grant" as const, amount: 5, reason: " " },
    ]) {
      await assert.rejects(operatorAdjustCredits(p, op.id, { workspaceId: customer.workspaceId, ...bad }), (e: unknown) => e instanceof AppError && e.code === "validation_failed");
    }

    const audit = await listAuditLog(p, op.id, { workspaceId: customer.workspaceId });
    assert.deepEqual(
      audit.map((r) => [r.actorEmail, r.action, r.amount, r.reason]),
      [
        ["ops@example.com", "credits.adjustment", -100, "Chargeback on invoice 7"],
        ["ops@example.com", "credits.grant", 25, "Support ticket 42: failed batch"],
      ],
    );
    assert.ok(audit.every((r) => r.createdAt >= new Date(before.getTime() - 1000)));
    const entries = await p.db.creditEntry.findMany({ where: { id: { in: [g.creditEntryId, a.creditEntryId] } }, orderBy: { createdAt: "asc" } });
    assert.deepEqual(entries.map((e) => [e.kind, e.amount]), [["grant", 25], ["adjustment", -100]]);
    assert.match(entries[0]!.reason ?? "", /by operator ops@example.com: Support ticket 42/);
    assert.deepEqual(await findBalanceMismatches(p.db), []);
  });
});
