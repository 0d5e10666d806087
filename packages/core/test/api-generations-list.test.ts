import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { AppError, claimJob, completeJob, failJob, getJob, listGenerations, queuePosition, signUp, submitGeneration, toGeneration } from "@lucid/core";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";

// The cheapest job the platform accepts: one credit.
const tiny = (prompt: string) => ({ prompt, width: 64, height: 64, steps: 1 });

describe("listing generations: keyset pages, status filter, queue position", () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform();
  });
  after(async () => t?.stop());

  const rejects = async (input: unknown, field: string) => {
    const u = await signUp(t.platform, { email: `bad-${field}-${Math.random()}@example.com`, password: "password123" });
    await assert.rejects(listGenerations(t.platform, u.workspaceId, input), (err: unknown) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.code, "validation_failed");
      assert.equal(err.status, 400);
      assert.deepEqual(err.fields?.map((f) => f.field), [field]);
      return true;
    });
  };

  it("pages through the workspace's jobs newest first, each exactly once, ties broken by id", async () => {
    const p = t.platform;
    const a = await signUp(p, { email: "lister@example.com", password: "password123" });
    const b = await signUp(p, { email: "neighbour@example.com", password: "password123" });
    const mine = [];
    for (let i = 0; i < 7; i++) mine.push(await submitGeneration(p, { workspaceId: a.workspaceId, source: "api" }, tiny(`job ${i}`)));
    await submitGeneration(p, { workspaceId: b.workspaceId, source: "api" }, tiny("not yours"));
    // Three jobs created in the same millisecond: the cursor must not skip or repeat any of them.
    const same = new Date(mine[3]!.createdAt);
    await p.db.job.updateMany({ where: { id: { in: [mine[2]!.id, mine[3]!.id, mine[4]!.id] } }, data: { createdAt: same } });
    const expected = (await p.db.job.findMany({ where: { workspaceId: a.workspaceId }, select: { id: true, createdAt: true } }))
      .sort((x, y) => y.createdAt.getTime() - x.createdAt.getTime() || (x.id < y.id ? 1 : -1))
      .map((j) => j.id);

    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | undefined;
    for (let guard = 0; guard < 10; guard++) {
      const page = await listGenerations(p, a.workspaceId, { limit: "2", ...(cursor ? { cursor } : {}) });
      seen.push(...page.jobs.map((j) => j.id));
      pageSizes.push(page.jobs.length);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    assert.deepEqual(seen, expected, "every job once, newest first, other workspaces' jobs absent");
    assert.deepEqual(pageSizes, [2, 2, 2, 1]);

    const all = await listGenerations(p, a.workspaceId, {});
    assert.equal(all.jobs.length, 7, "default limit (20) covers them all");
    assert.equal(all.nextCursor, null);
    const exact = await listGenerations(p, a.workspaceId, { limit: 7 });
    assert.equal(exact.nextCursor, null, "a page that ends exactly at the last job has no next cursor");
  });

  it("filters by status", async () => {
    const p = t.platform;
    const u = await signUp(p, { email: "filter@example.com", password: "password123" });
    const who = { workspaceId: u.workspaceId, source: "api" as const };
    const [done, failed, running, queued] = [
      await submitGeneration(p, who, tiny("done")),
      await submitGeneration(p, who, tiny("failed")),
      await submitGeneration(p, who, tiny("running")),
      await submitGeneration(p, who, tiny("queued")),
    ];
    assert.ok((await claimJob(p, done.id, "w1", 60_000)).claimed);
    assert.ok(await completeJob(p, done.id, "w1", [{ storageKey: `${u.workspaceId}/${done.id}/0.png`, width: 64, height: 64, seed: 1, contentType: "image/png" }]));
    assert.ok(await failJob(p, failed.id, { code: "generation_failed", message: "boom" }));
    assert.ok((await claimJob(p, running.id, "w2", 60_000)).claimed);

    const ids = async (status: string) => (await listGenerations(p, u.workspaceId, { status })).jobs.map((j) => j.id);
    assert.deepEqual(await ids("succeeded"), [done.id]);
    assert.deepEqual(await ids("failed"), [failed.id]);
    assert.deepEqual(await ids("running"), [running.id]);
    assert.deepEqual(await ids("queued"), [queued.id]);
    assert.deepEqual(await ids("canceled"), []);
    const succeeded = (await listGenerations(p, u.workspaceId, { status: "succeeded" })).jobs[0]!;
    assert.equal(succeeded.images.length, 1, "list rows carry their images");
  });

  it("refuses a bad status, limit or cursor with a 400 naming the field", async () => {
    await rejects({ status: "done" }, "status");
    await rejects({ status: "" }, "status");
    await rejects({ limit: "0" }, "limit");
    await rejects({ limit: "101" }, "limit");
    await rejects({ limit: "ten" }, "limit");
    await rejects({ cursor: "not-a-cursor" }, "cursor");
    await rejects({ cursor: Buffer.from(JSON.stringify(["yesterday", "x"])).toString("base64url") }, "cursor");
  });

  it("gives a queued job its place in the platform-wide queue, and null once it runs", async () => {
    const p = t.platform;
    // Start from an empty queue: earlier tests left queued jobs behind.
    await p.db.job.updateMany({ where: { status: "queued" }, data: { status: "canceled" } });
    const x = await signUp(p, { email: "queue-x@example.com", password: "password123" });
    const y = await signUp(p, { email: "queue-y@example.com", password: "password123" });
    const first = await submitGeneration(p, { workspaceId: x.workspaceId, source: "api" }, tiny("first"));
    const second = await submitGeneration(p, { workspaceId: y.workspaceId, source: "api" }, tiny("second, other workspace"));
    const third = await submitGeneration(p, { workspaceId: x.workspaceId, source: "api" }, tiny("third"));
    const url = () => "unused";
    const position = async (workspaceId: string, id: string) => (await toGeneration(await getJob(p, workspaceId, id), url, p)).queue_position;

    assert.deepEqual([await position(x.workspaceId, first.id), await position(y.workspaceId, second.id), await position(x.workspaceId, third.id)], [0, 1, 2]);
    assert.deepEqual([first.queuePosition, second.queuePosition, third.queuePosition], [0, 1, 2], "admission counts the same place, in the same statement");
    assert.equal((await toGeneration(await getJob(p, x.workspaceId, third.id), url)).queue_position, null, "without the platform toGeneration does not count");

    assert.ok((await claimJob(p, first.id, "w1", 60_000)).claimed);
    assert.equal(await position(x.workspaceId, first.id), null, "a running job has no queue position");
    assert.deepEqual([await position(y.workspaceId, second.id), await position(x.workspaceId, third.id)], [0, 1], "everyone moves up");

    // Same creation time: the id decides, as in the list.
    await p.db.job.update({ where: { id: third.id }, data: { createdAt: second.createdAt } });
    const [lo, hi] = second.id < third.id ? [second, third] : [third, second];
    assert.equal(await queuePosition(p, await p.db.job.findUniqueOrThrow({ where: { id: lo.id } })), 0);
    assert.equal(await queuePosition(p, await p.db.job.findUniqueOrThrow({ where: { id: hi.id } })), 1);
  });

  it("counts the jobs ahead only up to the cap: a deeper queue reads as the cap", async () => {
    const p = t.platform;
    await p.db.job.updateMany({ where: { status: "queued" }, data: { status: "canceled" } });
    const z = await signUp(p, { email: "queue-z@example.com", password: "password123" });
    const jobs = [];
    for (let i = 0; i < 5; i++) jobs.push(await submitGeneration(p, { workspaceId: z.workspaceId, source: "api" }, tiny(`deep ${i}`)));
    const last = await p.db.job.findUniqueOrThrow({ where: { id: jobs[4]!.id } });
    assert.equal(await queuePosition(p, last), 4, "under the default cap the count is exact");
    assert.equal(jobs[4]!.queuePosition, 4);
    assert.equal(await queuePosition(p, last, 3), 3, "four ahead, cap 3: reads 3");
    assert.equal(await queuePosition(p, last, 4), 4);
    assert.equal(await queuePosition(p, await p.db.job.findUniqueOrThrow({ where: { id: jobs[1]!.id } }), 3), 1, "below the cap: exact");
  });
});
