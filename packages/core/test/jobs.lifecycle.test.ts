import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  AppError,
  claimJob,
  completeJob,
  failJob,
  findBalanceMismatches,
  getJob,
  isCancelRequested,
  requestCancel,
  signUp,
  submitGeneration,
  toGeneration,
} from "@lucid/core";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";

describe("job lifecycle and the money on it", () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform();
  });
  after(async () => t?.stop());

  const balance = async (workspaceId: string) => (await t.platform.db.workspace.findUniqueOrThrow({ where: { id: workspaceId } })).creditBalance;

  it("reserves on submit, captures once on success", async () => {
    const p = t.platform;
    const u = await signUp(p, { email: "ok@example.com", password: "password123" });
    assert.equal(await balance(u.workspaceId), 50, "starter credits");
    const job = await submitGeneration(p, { workspaceId: u.workspaceId, source: "web" }, { prompt: "a cat", width: 512, height: 512, steps: 50, n: 2 });
    assert.equal(job.creditsReserved, 4); // 2 credits per 512² image at 50 steps, 2 images
    assert.equal(await balance(u.workspaceId), 46);

    const claim = await claimJob(p, job.id, "w1", 60_000);
    assert.equal(claim.claimed, true);
    const dup = await claimJob(p, job.id, "w2", 60_000);
    assert.deepEqual([dup.claimed, dup.claimed ? null : dup.reason], [false, "leased"], "a second worker cannot take a running job");

    const images = [0, 1].map((i) => ({ storageKey: `${u.workspaceId}/${job.id}/${i}.png`, width: 512, height: 512, seed: 7 + i, contentType: "image/png" }));
    assert.equal(await completeJob(p, job.id, "w1", images), true);
    assert.equal(await completeJob(p, job.id, "w1", images), false, "completing twice is a no-op");
    assert.equal(await failJob(p, job.id, { code: "late", message: "late failure" }), false, "a finished job cannot fail afterwards");

    const done = await toGeneration(await getJob(p, u.workspaceId, job.id), (img) => `/images/${img.id}`);
    assert.equal(done.status, "succeeded");
    assert.equal(done.credits_charged, 4);
    assert.equal(done.credits_released, 0);
    assert.equal(done.images.length, 2);
    assert.equal(await balance(u.workspaceId), 46, "capture does not take the credits a second time");
    const again = await claimJob(p, job.id, "w3", 60_000);
    assert.deepEqual([again.claimed, again.claimed ? null : again.reason], [false, "finished"], "a duplicate delivery never re-runs a finished job");
    assert.deepEqual(await findBalanceMismatches(p.db), []);
  });

  it("releases the reservation when the job fails, once", async () => {
    const p = t.platform;
    const u = await signUp(p, { email: "fail@example.com", password: "password123" });
    const job = await submitGeneration(p, { workspaceId: u.workspaceId, source: "api" }, { prompt: "doomed" });
    assert.ok((await claimJob(p, job.id, "w1", 60_000)).claimed);
    assert.equal(await failJob(p, job.id, { code: "generation_failed", message: "boom" }, { workerId: "w1" }), true);
    assert.equal(await failJob(p, job.id, { code: "generation_failed", message: "boom" }), false);
    const j = await getJob(p, u.workspaceId, job.id);
    assert.equal(j.status, "failed");
    assert.equal(j.creditsReleased, j.creditsReserved);
    assert.equal(j.creditsCharged, 0);
    assert.equal(await balance(u.workspaceId), 50, "nothing was charged");
  });

  it("takes over a running job whose worker's lease expired", async () => {
    const p = t.platform;
    const u = await signUp(p, { email: "lease@example.com", password: "password123" });
    const job = await submitGeneration(p, { workspaceId: u.workspaceId, source: "api" }, { prompt: "orphan" });
    assert.ok((await claimJob(p, job.id, "dead-worker", 1)).claimed);
    await new Promise((r) => setTimeout(r, 20));
    const c = await claimJob(p, job.id, "w2", 60_000);
    assert.equal(c.claimed, true);
    assert.equal(await completeJob(p, job.id, "dead-worker", []), false, "the old worker can no longer complete it");
  });

  it("rejects bad input with field errors, charging and enqueueing nothing", async () => {
    const p = t.platform;
    const u = await signUp(p, { email: "bad@example.com", password: "password123" });
    const cases: Array<[unknown, string]> = [
      [{ prompt: "" }, "prompt"],
      [{ prompt: "x", width: 100 }, "width"],
      [{ prompt: "x", steps: 0 }, "steps"],
      [{ prompt: "x", n: 9 }, "n"],
      [{ prompt: "x", colour: "red" }, "colour"],
      [{ prompt: "x", model: "nope" }, "model"],
      [[1, 2], "body"],
    ];
    for (const [body, field] of cases) {
      await assert.rejects(
        submitGeneration(p, { workspaceId: u.workspaceId, source: "api" }, body),
        (err: unknown) => err instanceof AppError && err.status === 400 && (err.fields ?? []).some((f) => f.field === field),
        `expected a 400 naming ${field} for ${JSON.stringify(body)}`,
      );
    }
    assert.equal(await balance(u.workspaceId), 50);
    assert.equal(await p.db.job.count({ where: { workspaceId: u.workspaceId } }), 0);
  });

  it("hides another workspace's job", async () => {
    const p = t.platform;
    const a = await signUp(p, { email: "a@example.com", password: "password123" });
    const b = await signUp(p, { email: "b@example.com", password: "password123" });
    const job = await submitGeneration(p, { workspaceId: a.workspaceId, source: "api" }, { prompt: "mine" });
    await assert.rejects(getJob(p, b.workspaceId, job.id), (e: unknown) => e instanceof AppError && e.status === 404);
  });

  it("cancels: a queued job at once with credits back, a running one by request, a finished one not at all", async () => {
    const p = t.platform;
    const u = await signUp(p, { email: "cancel@example.com", password: "password123" });
    const who = { workspaceId: u.workspaceId, source: "api" as const };

    const queued = await submitGeneration(p, who, { prompt: "never mind" });
    assert.equal(await requestCancel(p, u.workspaceId, queued.id), "canceled");
    const canceled = await getJob(p, u.workspaceId, queued.id);
    assert.deepEqual([canceled.status, canceled.creditsReleased, canceled.creditsCharged], ["canceled", canceled.creditsReserved, 0]);
    assert.equal((await claimJob(p, queued.id, "w1", 60_000)).claimed, false, "a canceled job never runs");

    const running = await submitGeneration(p, who, { prompt: "stop me" });
    await claimJob(p, running.id, "w1", 60_000);
    assert.equal(await isCancelRequested(p, running.id), false);
    assert.equal(await requestCancel(p, u.workspaceId, running.id), "cancellation_requested");
    assert.equal(await isCancelRequested(p, running.id), true);
    assert.equal(await failJob(p, running.id, { code: "canceled", message: "Canceled." }, { workerId: "w1", status: "canceled" }), true);
    assert.equal(await requestCancel(p, u.workspaceId, running.id), "canceled");

    const done = await submitGeneration(p, who, { prompt: "too late" });
    await claimJob(p, done.id, "w1", 60_000);
    await completeJob(p, done.id, "w1", []);
    assert.equal(await requestCancel(p, u.workspaceId, done.id), "already_finished");
    assert.equal(await balance(u.workspaceId), 50 - done.creditsReserved, "only the finished job was charged");

    const stranger = await signUp(p, { email: "cancel-stranger@example.com", password: "password123" });
    await assert.rejects(requestCancel(p, stranger.workspaceId, done.id), (e: unknown) => e instanceof AppError && e.status === 404);
  });

  it("variations start only from an image the caller may see", async () => {
    const p = t.platform;
    const owner = await signUp(p, { email: "var-owner@example.com", password: "password123" });
    const other = await signUp(p, { email: "var-other@example.com", password: "password123" });
    const job = await submitGeneration(p, { workspaceId: owner.workspaceId, source: "web" }, { prompt: "source" });
    await claimJob(p, job.id, "w", 60_000);
    await completeJob(p, job.id, "w", [{ storageKey: `v/${job.id}.png`, width: 512, height: 512, seed: 1, contentType: "image/png" }]);
    const image = await p.db.image.findFirstOrThrow({ where: { jobId: job.id } });

    const variation = await submitGeneration(p, { workspaceId: owner.workspaceId, source: "web" }, { prompt: "variation", init_image_id: image.id });
    assert.equal((variation.request as { strength: number }).strength, 0.75, "default strength");
    await assert.rejects(
      submitGeneration(p, { workspaceId: other.workspaceId, source: "web" }, { prompt: "steal", init_image_id: image.id }),
      (e: unknown) => e instanceof AppError && e.status === 400 && e.fields?.[0]?.field === "init_image_id",
    );
    await assert.rejects(
      submitGeneration(p, { workspaceId: owner.workspaceId, source: "web" }, { prompt: "x", strength: 0.5 }),
      (e: unknown) => e instanceof AppError && e.fields?.[0]?.field === "strength",
    );
    await p.db.image.update({ where: { id: image.id }, data: { visibility: "public", publishedAt: new Date() } });
    const fromPublic = await submitGeneration(p, { workspaceId: other.workspaceId, source: "web" }, { prompt: "remix", init_image_id: image.id, strength: 0.3 });
    assert.equal((fromPublic.request as { strength: number }).strength, 0.3);
  });
});
