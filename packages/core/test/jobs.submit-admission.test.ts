import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { AppError, LimitExceededError, createApiKey, findBalanceMismatches, queuePosition as queuePositionIn, signUp, submitGeneration, type Platform } from "@lucid/core";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";

// submitGeneration accepts a job in one statement under the workspace lock
// (lucid_submit_job): these pin what that statement records and how it refuses.
describe("submit admission: one statement under the workspace lock", () => {
  let t: TestPlatform;
  let p: Platform;
  before(async () => {
    t = await startTestPlatform({ LUCID_PLANS: JSON.stringify({ free: { requestsPerMinute: 60, maxInFlightJobs: 3 }, solo: { requestsPerMinute: 60, maxInFlightJobs: 1 } }) });
    p = t.platform;
  });
  after(async () => t?.stop());

  let users = 0;
  const newUser = () => signUp(p, { email: `admit${users++}@example.com`, password: "password123" });
  const small = { prompt: "a small teapot", width: 64, height: 64, steps: 2, seed: 5 }; // costs 1 credit

  it("returns the job exactly as stored, with its reserve entry (unique ref, balance after) and the in-flight count", async () => {
    const u = await newUser();
    const key = await createApiKey(p, u.workspaceId, u.id, { name: "k" });
    const { queuePosition, ...job } = await submitGeneration(p, { workspaceId: u.workspaceId, userId: u.id, apiKeyId: key.id, source: "api" }, small);
    const stored = await p.db.job.findUniqueOrThrow({ where: { id: job.id } });
    assert.deepEqual(job, stored, "the returned job is the stored row, types included");
    assert.equal(queuePosition, await queuePositionIn(p, stored), "with its queue position, counted as a later request would");
    assert.equal(job.status, "queued");
    assert.deepEqual([job.createdById, job.apiKeyId, job.source, job.creditsReserved, job.progressTotal], [u.id, key.id, "api", 1, 2]);
    assert.deepEqual((job.request as { seed: number }).seed, 5);
    assert.ok(Math.abs(job.createdAt.getTime() - Date.now()) < 60_000, "createdAt is stored as UTC, like Prisma's own dates");

    const entries = await p.db.creditEntry.findMany({ where: { jobId: job.id } });
    assert.equal(entries.length, 1);
    assert.deepEqual(
      [entries[0]!.kind, entries[0]!.amount, entries[0]!.externalRef, entries[0]!.balanceAfter, entries[0]!.reason],
      ["reserve", -1, `job:${job.id}:reserve`, 49, `Reserved for generation ${job.id}`],
    );
    const ws = await p.db.workspace.findUniqueOrThrow({ where: { id: u.workspaceId } });
    assert.deepEqual([ws.creditBalance, ws.jobsInFlight], [49, 1]);
    assert.deepEqual(await findBalanceMismatches(p.db), []);
  });

  it("a workspace in debt is told it owes, and nothing is recorded", async () => {
    const u = await newUser();
    await p.db.$transaction([
      p.db.$executeRaw`INSERT INTO "CreditEntry" (id, "workspaceId", kind, amount, "externalRef", "balanceAfter")
        VALUES (gen_random_uuid(), ${u.workspaceId}::uuid, 'refund', -53, ${`test:refund:${u.workspaceId}`}, -3)`,
      p.db.workspace.update({ where: { id: u.workspaceId }, data: { creditBalance: { decrement: 53 } } }),
    ]);
    const err = await submitGeneration(p, { workspaceId: u.workspaceId, source: "web" }, small).catch((e) => e);
    assert.ok(err instanceof AppError);
    assert.equal(err.code, "insufficient_credits");
    assert.match(err.message, /owes 3 credits/);
    assert.equal(await p.db.job.count({ where: { workspaceId: u.workspaceId } }), 0);
    assert.equal((await p.db.workspace.findUniqueOrThrow({ where: { id: u.workspaceId } })).creditBalance, -3);
  });

  it("too little credit names the cost and the balance", async () => {
    const u = await newUser();
    const big = { ...small, width: 1024, height: 1024, steps: 50, n: 4 }; // 32 credits
    await submitGeneration(p, { workspaceId: u.workspaceId, source: "web" }, big);
    const err = await submitGeneration(p, { workspaceId: u.workspaceId, source: "web" }, big).catch((e) => e);
    assert.ok(err instanceof AppError);
    assert.equal(err.code, "insufficient_credits");
    assert.match(err.message, /This needs 32 credits but the workspace has 18\./);
  });

  it("the in-flight limit follows the workspace's plan; an unknown plan gets the default plan's", async () => {
    const u = await newUser();
    await p.db.workspace.update({ where: { id: u.workspaceId }, data: { plan: "solo" } });
    const who = { workspaceId: u.workspaceId, source: "web" as const };
    await submitGeneration(p, who, small);
    const refused = await submitGeneration(p, who, small).catch((e) => e);
    assert.ok(refused instanceof LimitExceededError);
    assert.equal(refused.code, "too_many_in_flight_jobs");
    assert.match(refused.message, /already has 1 generations queued or running \(the limit is 1\)/);

    await p.db.workspace.update({ where: { id: u.workspaceId }, data: { plan: "no-such-plan" } });
    await submitGeneration(p, who, small);
    await submitGeneration(p, who, small);
    const atDefault = await submitGeneration(p, who, small).catch((e) => e);
    assert.equal(atDefault.code, "too_many_in_flight_jobs");
    assert.match(atDefault.message, /the limit is 3/);
  });

  it("an unknown workspace is not found", async () => {
    const who = { workspaceId: "00000000-0000-4000-8000-000000000000", source: "web" as const };
    await assert.rejects(submitGeneration(p, who, small), (e: unknown) => e instanceof AppError && e.code === "not_found");
    await assert.rejects(submitGeneration(p, { ...who, workspaceId: "nope" }, small), (e: unknown) => e instanceof AppError && e.code === "not_found");
  });
});
