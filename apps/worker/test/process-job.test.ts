import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import pino from "pino";
import sharp from "sharp";
import { ReceiveMessageCommand, type Message } from "@aws-sdk/client-sqs";
import { findBalanceMismatches, getJob, signUp, submitGeneration } from "@lucid/core";
import { DiffusionEngine, ensureFixtureModel, readPngText } from "@lucid/diffusion";
import { createSqsClient } from "@lucid/queue";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";
import { processJobMessage, type WorkerContext } from "../src/process-job.ts";

describe("worker: one SQS message through the real pipeline", () => {
  let t: TestPlatform;
  let engine: DiffusionEngine;
  let ctx: WorkerContext;
  const sqs = () => createSqsClient(t.config.aws);

  async function receiveOne(queueUrl: string): Promise<Message> {
    for (let i = 0; i < 10; i++) {
      const out = await sqs().send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }));
      if (out.Messages?.[0]) return out.Messages[0];
    }
    throw new Error(`no message arrived on ${queueUrl}`);
  }
  const balance = async (workspaceId: string) => (await t.platform.db.workspace.findUniqueOrThrow({ where: { id: workspaceId } })).creditBalance;

  before(async () => {
    t = await startTestPlatform();
    const modelDir = join(t.dataDir, "models", "lucid-tiny");
    await ensureFixtureModel(modelDir);
    engine = await DiffusionEngine.create({ executionProvider: "cpu" });
    ctx = { platform: t.platform, engine, log: pino({ level: "silent" }), workerId: "test-worker", modelDir, leaseMs: 60_000, maxAttempts: 5 };
  });
  after(async () => {
    await engine?.close();
    await t?.stop();
  });

  it("runs a job: stores its PNGs, marks it succeeded and charges exactly once, even when delivered twice", async () => {
    const p = t.platform;
    const u = await signUp(p, { email: "worker@example.com", password: "password123" });
    const job = await submitGeneration(p, { workspaceId: u.workspaceId, source: "api" }, { prompt: "a small test", width: 64, height: 80, steps: 3, seed: 9, n: 2 });
    const message = await receiveOne(t.config.queueUrl);

    await processJobMessage(ctx, message.Body);
    const done = await getJob(p, u.workspaceId, job.id);
    assert.equal(done.status, "succeeded");
    assert.equal(done.progressStep, 3);
    assert.equal(done.creditsCharged, done.creditsReserved);
    assert.deepEqual(done.images.map((i) => [i.width, i.height, Number(i.seed)]), [[64, 80, 9], [64, 80, 10]]);
    for (const img of done.images) {
      const stored = await p.images.get(img.storageKey);
      assert.ok(stored, "image is in the bucket");
      const meta = await sharp(Buffer.from(stored.body)).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ["png", 64, 80]);
      assert.equal(
        readPngText(stored.body).parameters,
        `a small test\nSteps: 3, Sampler: Euler, CFG scale: 7.5, Seed: ${img.seed}, Size: 64x80, Model: lucid-tiny`,
        "generation parameters ride in the PNG (A1111 format)",
      );
      const thumb = await p.images.get(img.thumbnailKey!);
      assert.equal((await sharp(Buffer.from(thumb!.body)).metadata()).format, "webp");
    }
    const balanceAfter = await balance(u.workspaceId);
    assert.equal(balanceAfter, 50 - done.creditsReserved);

    // SQS may deliver the same message again: nothing runs or is charged twice.
    await processJobMessage(ctx, message.Body);
    assert.equal(await balance(u.workspaceId), balanceAfter);
    assert.equal((await getJob(p, u.workspaceId, job.id)).images.length, 2);
    assert.deepEqual(await findBalanceMismatches(p.db), []);
  });

  it("moves a message that is not JSON to the dead-letter queue without crashing", async () => {
    await processJobMessage(ctx, "{not json");
    const dead = await receiveOne(t.config.dlqUrl!);
    assert.equal(dead.Body, "{not json");
  });

  it("fails the job of an invalid message, releases its credits and dead-letters it", async () => {
    const p = t.platform;
    const u = await signUp(p, { email: "poison@example.com", password: "password123" });
    const job = await submitGeneration(p, { workspaceId: u.workspaceId, source: "api" }, { prompt: "poisoned" });
    await receiveOne(t.config.queueUrl); // the genuine message, consumed
    const poison = JSON.stringify({ version: 1, jobId: job.id, workspaceId: u.workspaceId, request: { prompt: 42 } });
    await processJobMessage(ctx, poison);
    const failed = await getJob(p, u.workspaceId, job.id);
    assert.equal(failed.status, "failed");
    assert.equal(failed.errorCode, "invalid_job_message");
    assert.equal(failed.creditsReleased, failed.creditsReserved);
    assert.equal(await balance(u.workspaceId), 50, "you were not charged");
    assert.equal((await receiveOne(t.config.dlqUrl!)).Body, poison);
  });

  it("makes variations of a stored image and shows live previews while running", async () => {
    const p = t.platform;
    const u = await signUp(p, { email: "variations@example.com", password: "password123" });
    const first = await submitGeneration(p, { workspaceId: u.workspaceId, source: "web" }, { prompt: "source", width: 64, height: 64, steps: 2, seed: 1 });
    await processJobMessage(ctx, (await receiveOne(t.config.queueUrl)).Body);
    const source = (await getJob(p, u.workspaceId, first.id)).images[0]!;

    const variation = await submitGeneration(p, { workspaceId: u.workspaceId, source: "web" }, {
      prompt: "variation", width: 64, height: 64, steps: 12, seed: 2, init_image_id: source.id, strength: 0.5,
    });
    await processJobMessage(ctx, (await receiveOne(t.config.queueUrl)).Body);
    const done = await getJob(p, u.workspaceId, variation.id);
    assert.equal(done.status, "succeeded");
    assert.deepEqual([done.progressStep, done.progressTotal], [6, 6], "strength 0.5 runs half of the 12 steps");
    assert.equal(done.previewStep, 4, "the last preview was taken at step 4 (every 4 steps, never the last)");
    const preview = await p.images.get(done.previewKey!);
    assert.equal((await sharp(Buffer.from(preview!.body)).metadata()).format, "webp");

    const missing = await submitGeneration(p, { workspaceId: u.workspaceId, source: "web" }, { prompt: "orphan", width: 64, height: 64, steps: 2, init_image_id: source.id });
    await p.db.image.update({ where: { id: source.id }, data: { storageKey: "gone/nowhere.png" } });
    await processJobMessage(ctx, (await receiveOne(t.config.queueUrl)).Body);
    const failed = await getJob(p, u.workspaceId, missing.id);
    assert.deepEqual([failed.status, failed.errorCode, failed.creditsReleased], ["failed", "init_image_missing", failed.creditsReserved]);
  });
});
