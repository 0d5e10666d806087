import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  AppError,
  dailySpend,
  failJob,
  findBalanceMismatches,
  ledgerCsv,
  listLedger,
  parseLedgerFilter,
  setMonthlySpendLimit,
  signUp,
  spendSummary,
  submitGeneration,
  type Platform,
} from "@lucid/core";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";

describe("monthly spend limit and the usage ledger", () => {
  let t: TestPlatform;
  let p: Platform;
  before(async () => {
    t = await startTestPlatform({ LUCID_STARTER_CREDITS: "100" });
    p = t.platform;
  });
  after(async () => t?.stop());

  const job = (credits: 1 | 2 | 4) => ({ prompt: "a fox", width: 512, height: 512, steps: 25, n: credits });
  const csvText = async (workspaceId: string, filter = {}) => {
    let out = "";
    for await (const chunk of ledgerCsv(p, workspaceId, filter)) out += chunk;
    return out;
  };

  it("refuses a reservation that would pass the monthly limit, counting releases back, and only owners set it", async () => {
    const u = await signUp(p, { email: "limited@example.com", password: "password123" });
    const who = { workspaceId: u.workspaceId, source: "api" as const };
    await assert.rejects(setMonthlySpendLimit(p, { workspaceId: u.workspaceId, role: "member" }, 5), (e: unknown) => e instanceof AppError && e.code === "forbidden");
    await assert.rejects(setMonthlySpendLimit(p, { workspaceId: u.workspaceId, role: "owner" }, "-3"), (e: unknown) => e instanceof AppError && e.code === "validation_failed");
    assert.deepEqual(await setMonthlySpendLimit(p, { workspaceId: u.workspaceId, role: "owner" }, "5"), { monthlySpendLimit: 5 });

    const a = await submitGeneration(p, who, job(4));
    await assert.rejects(submitGeneration(p, who, job(2)), (err: unknown) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.code, "spend_limit_reached");
      assert.equal(err.status, 402);
      assert.match(err.message, /monthly spend limit is 5 credits and 4 were spent this month/);
      return true;
    });
    await submitGeneration(p, who, job(1)); // exactly at the limit
    assert.equal((await spendSummary(p, u.workspaceId)).spentThisMonth, 5);
    // A failed job gives its reservation back, to the balance and to the month's allowance.
    await failJob(p, a.id, { code: "test", message: "failed for the test" });
    assert.equal((await spendSummary(p, u.workspaceId)).spentThisMonth, 1);
    await submitGeneration(p, who, job(4));
    await assert.rejects(submitGeneration(p, who, job(1)), (e: unknown) => e instanceof AppError && e.code === "spend_limit_reached");

    // Concurrent submissions cannot slip past the limit together.
    await setMonthlySpendLimit(p, { workspaceId: u.workspaceId, role: "owner" }, 8);
    const raced = await Promise.allSettled(Array.from({ length: 8 }, () => submitGeneration(p, who, job(1))));
    assert.equal(raced.filter((r) => r.status === "fulfilled").length, 3);
    assert.equal((await spendSummary(p, u.workspaceId)).spentThisMonth, 8);

    // Removing the limit (empty) lets spending continue.
    assert.deepEqual(await setMonthlySpendLimit(p, { workspaceId: u.workspaceId, role: "owner" }, ""), { monthlySpendLimit: null });
    await submitGeneration(p, who, job(1));
    const summary = await spendSummary(p, u.workspaceId);
    assert.deepEqual([summary.balance, summary.debt, summary.spentThisMonth, summary.monthlySpendLimit], [91, 0, 9, null]);
    assert.deepEqual(await findBalanceMismatches(p.db), []);
  });

  it("the database refuses a spending entry that would overdraw, even if code skipped the check", async () => {
    const u = await signUp(p, { email: "rawsql@example.com", password: "password123" });
    await assert.rejects(
      p.db.$executeRaw`INSERT INTO "CreditEntry" (id, "workspaceId", kind, amount, "externalRef", "balanceAfter")
        VALUES (gen_random_uuid(), ${u.workspaceId}::uuid, 'reserve', -200, 'raw:overdraw', -100)`,
      /CreditEntry_spend_never_overdraws/,
    );
    // A refund may leave a debt.
    await p.db.$executeRaw`INSERT INTO "CreditEntry" (id, "workspaceId", kind, amount, "externalRef", "balanceAfter")
        VALUES (gen_random_uuid(), ${u.workspaceId}::uuid, 'refund', -200, 'raw:refund', -100)`;
    await p.db.$executeRaw`DELETE FROM "CreditEntry" WHERE "externalRef" = 'raw:refund'`;
  });

  it("lists the ledger with kind and date filters and pages, and exports the same rows as CSV", async () => {
    const u = await signUp(p, { email: "usage@example.com", password: "password123" });
    const who = { workspaceId: u.workspaceId, source: "api" as const };
    const jobs = [];
    for (let i = 0; i < 3; i++) jobs.push(await submitGeneration(p, who, job(2)));
    await failJob(p, jobs[0]!.id, { code: "test", message: "failed" });

    const all = await listLedger(p, u.workspaceId, {}, { pageSize: 2 });
    assert.equal(all.total, 5); // grant, 3 reserves, 1 release
    assert.equal(all.pageCount, 3);
    assert.deepEqual(all.rows.map((r) => r.kind), ["release", "reserve"], "newest first");
    const last = await listLedger(p, u.workspaceId, {}, { page: 3, pageSize: 2 });
    assert.deepEqual(last.rows.map((r) => r.kind), ["grant"]);

    const reserves = await listLedger(p, u.workspaceId, parseLedgerFilter({ kind: "reserve" }));
    assert.deepEqual(reserves.rows.map((r) => r.amount), [-2, -2, -2]);
    const today = new Date().toISOString().slice(0, 10);
    assert.equal((await listLedger(p, u.workspaceId, parseLedgerFilter({ from: today, to: today }))).total, 5);
    assert.equal((await listLedger(p, u.workspaceId, parseLedgerFilter({ to: "2000-01-01" }))).total, 0);
    assert.throws(() => parseLedgerFilter({ kind: "theft", from: "yesterday" }), (e: unknown) => {
      assert.ok(e instanceof AppError);
      assert.deepEqual(e.fields?.map((f) => f.field), ["kind", "from"]);
      return true;
    });

    const csv = await csvText(u.workspaceId);
    const lines = csv.split("\r\n").filter(Boolean);
    assert.equal(lines[0], "created_at,kind,amount,balance_after,reason,job_id,reference");
    assert.equal(lines.length, 6);
    assert.match(lines[1]!, /^\d{4}-\d{2}-\d{2}T[\d:.]+Z,grant,100,100,Starter credits,,/);
    assert.deepEqual(lines.slice(1).map((l) => l.split(",").slice(1, 4).join(",")), ["grant,100,100", "reserve,-2,98", "reserve,-2,96", "reserve,-2,94", "release,2,96"]);
    const filtered = (await csvText(u.workspaceId, parseLedgerFilter({ kind: "release" }))).split("\r\n").filter(Boolean);
    assert.equal(filtered.length, 2);
    assert.ok(filtered[1]!.includes(`,${jobs[0]!.id},job:${jobs[0]!.id}:release`));

    const days = await dailySpend(p, u.workspaceId, 30);
    assert.equal(days.length, 30);
    assert.equal(days.at(-1)?.day, today);
    assert.equal(days.at(-1)?.credits, 4, "three reservations of 2, one released");
    assert.equal(days.slice(0, -1).reduce((s, d) => s + d.credits, 0), 0);
  });
});
