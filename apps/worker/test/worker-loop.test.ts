import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { claimJob, getJob, requestCancel, signUp, submitGeneration, type Platform } from "@lucid/core";
import { DiffusionEngine, ensureFixtureModel } from "@lucid/diffusion";
import { createSqsClient, DeadLetterQueue, SqsJobQueue } from "@lucid/queue";
import { S3ImageStore, type ImageStore } from "@lucid/storage";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";
import { JobInterruptedError, processJobMessage, type WorkerContext } from "../src/process-job.ts";
import { startDeadLetterSweeper, sweepDeadLetters } from "../src/dead-letters.ts";
import { startWorker, type RunningWorker } from "../src/worker.ts";
import { WorkerMetrics } from "../src/metrics.ts";
import { assertSettledOnce, balance, jobRow, metricValue, waitFor } from "./helpers.ts";

// A job long enough to outlast a 2 s visibility timeout several times on the bench fixture.
const LONG_JOB = { prompt: "a long job", width: 512, height: 512, steps: 50, n: 4, seed: 3 } as const;

describe("worker loop: at-least-once delivery from SQS", () => {
  let t: TestPlatform;
  let engine: DiffusionEngine;
  let sqs: SQSClient;
  let modelsDir: string;
  const tinyDir = () => join(modelsDir, "tiny");
  const benchDir = () => join(modelsDir, "bench");
  const quiet = pino({ level: "silent" });
  let users = 0;

  const context = (over: Partial<WorkerContext> = {}): WorkerContext => ({
    platform: t.platform,
    engine,
    log: quiet,
    workerId: "worker-a",
    modelDir: tinyDir(),
    leaseMs: 30_000,
    maxAttempts: 5,
    ...over,
  });
  const newWorkspace = async () => (await signUp(t.platform, { email: `loop${++users}@example.com`, password: "password123" })).workspaceId;
  const submit = (p: Platform, workspaceId: string, req: object) => submitGeneration(p, { workspaceId, source: "api" }, req);
  /**
   * The next message's body, hidden for 30 s. Polls a few times: a stopped
   * worker's cut-off long poll may leave a message hidden for its 2 s visibility.
   */
  const receiveOne = async (queueUrl: string) => {
    const m = await waitFor(
      "a message",
      async () => (await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 1, VisibilityTimeout: 30 }))).Messages?.[0],
      { tries: 10, everyMs: 0 },
    );
    return { body: m.Body ?? "", receiptHandle: m.ReceiptHandle! };
  };
  /** 2 s visibility, extended every 0.5 s while a job runs; 1 s long polls so stopping is quick. */
  const loop = (ctx: WorkerContext, over: Partial<Parameters<typeof startWorker>[1]> = {}) =>
    startWorker(ctx, { sqs, queueUrl: t.config.queueUrl, visibilitySeconds: 2, heartbeatSeconds: 0.5, waitTimeSeconds: 1, ...over });

  before(async () => {
    modelsDir = mkdtempSync(join(tmpdir(), "lucid-worker-models-"));
    // The bench fixture is served as the platform's model so jobs may ask for it.
    [t] = await Promise.all([
      startTestPlatform({ LUCID_MODEL_ID: "lucid-bench", LUCID_MODEL_DIR: benchDir() }),
      ensureFixtureModel(tinyDir()),
      ensureFixtureModel(benchDir(), { size: "bench" }),
    ]);
    sqs = createSqsClient(t.config.aws);
    engine = await DiffusionEngine.create({ executionProvider: "cpu" });
  });
  after(async () => {
    await engine?.close();
    await t?.stop();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  let heartbeatWorker: RunningWorker | undefined;
  let heartbeatJobId = "";
  after(() => heartbeatWorker?.stop(0));

  it("keeps a long job's message hidden with heartbeats: it runs once and is never received again (2 s visibility)", async () => {
    const workspaceId = await newWorkspace();
    heartbeatWorker = await loop(context({ modelDir: benchDir(), leaseMs: 2_000 }), { metricsPort: 0 });
    const job = await submit(t.platform, workspaceId, LONG_JOB);
    heartbeatJobId = job.id;

    // A competing consumer polls the queue all along: a redelivery would land here.
    let pollsWhileRunning = 0;
    const stolen: string[] = [];
    for (let i = 0; i < 300; i++) {
      const before = await jobRow(t.platform, job.id);
      if (before.status === "succeeded" || before.status === "failed") break;
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: t.config.queueUrl, WaitTimeSeconds: 1, VisibilityTimeout: 30 }));
      for (const m of out.Messages ?? []) stolen.push(m.Body ?? "");
      if (before.status === "running" && (await jobRow(t.platform, job.id)).status === "running") pollsWhileRunning++;
    }
    const done = await jobRow(t.platform, job.id);
    assert.equal(done.status, "succeeded");
    assert.deepEqual(stolen, [], "the message was never visible while its job ran");
    // Each poll waited 1 s with the job running: the run outlasted the 2 s visibility timeout.
    assert.ok(pollsWhileRunning >= 3, `the job ran across ${pollsWhileRunning} one-second polls`);
    assert.equal(done.attempts, 1);
    assert.equal(heartbeatWorker.receivedCount, 1, "the worker received the message once");
    const depth = await new SqsJobQueue(sqs, t.config.queueUrl).approximateDepth();
    assert.deepEqual(depth, { visible: 0, inFlight: 0 }, "the message was deleted after the job");
    assert.equal(done.creditsCharged, 8);
    assert.equal(await balance(t.platform, workspaceId), 50 - 8);
    assert.equal((await getJob(t.platform, workspaceId, job.id)).images.length, 4);
    await assertSettledOnce(t.platform, job.id, "capture");
  });

  it("serves Prometheus metrics: the succeeded job, its queue wait, steps and pipeline time", async () => {
    assert.ok(heartbeatWorker?.metricsUrl && heartbeatJobId, "needs the previous test's worker");
    const res = await fetch(heartbeatWorker.metricsUrl);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.equal(metricValue(text, 'lucid_worker_jobs_total{outcome="succeeded"}'), 1);
    assert.equal(metricValue(text, 'lucid_worker_jobs_total{outcome="failed"}'), 0);
    assert.equal(metricValue(text, "lucid_worker_queue_wait_seconds_count"), 1);
    assert.equal(metricValue(text, "lucid_worker_pipeline_seconds_count"), 1);
    assert.equal(metricValue(text, "lucid_worker_step_seconds_count"), LONG_JOB.steps);
    assert.equal((await fetch(heartbeatWorker.metricsUrl.replace("/metrics", "/other"))).status, 404);
    await heartbeatWorker.stop(0);
  });

  it("retries a storage failure: the job goes back to queued, then succeeds once and is charged once", async () => {
    const workspaceId = await newWorkspace();
    // The real S3 adapter, first on a bucket that does not exist, then on the real one.
    const missingBucket = new S3ImageStore(t.config.aws, "no-such-bucket");
    let store: ImageStore = missingBucket;
    const images: ImageStore = {
      put: (...a) => store.put(...a),
      get: (...a) => store.get(...a),
      signedUrl: (...a) => store.signedUrl(...a),
      health: () => store.health(),
    };
    const metrics = new WorkerMetrics();
    const worker = await loop(context({ platform: { ...t.platform, images }, metrics }));
    try {
      const job = await submit(t.platform, workspaceId, { prompt: "storage hiccup", width: 64, height: 64, steps: 2, seed: 5 });
      const retried = await waitFor("the failed attempt to hand the job back", async () => {
        const row = await jobRow(t.platform, job.id);
        return row.attempts >= 1 && row.status === "queued" && row;
      });
      assert.equal(retried.creditsReleased, 0, "a transient failure keeps the reservation");
      store = t.platform.images;
      const done = await waitFor("the redelivered message to finish the job", async () => {
        const row = await jobRow(t.platform, job.id);
        return (row.status === "succeeded" || row.status === "failed") && row;
      });
      assert.equal(done.status, "succeeded");
      assert.ok(done.attempts >= 2, `attempts: ${done.attempts}`);
      assert.equal(done.creditsCharged, done.creditsReserved);
      const stored = (await getJob(t.platform, workspaceId, job.id)).images;
      assert.equal(stored.length, 1);
      assert.ok(await t.platform.images.get(stored[0]!.storageKey), "the image is in the real bucket");
      assert.equal(await balance(t.platform, workspaceId), 50 - done.creditsReserved);
      await assertSettledOnce(t.platform, job.id, "capture");
      assert.equal(await metrics.jobs.get().then((m) => m.values.find((v) => v.labels.outcome === "succeeded")?.value), 1);
      assert.ok((await metrics.jobs.get()).values.some((v) => v.labels.outcome === "retried" && v.value >= 1));
    } finally {
      await worker.stop(0);
    }
  });

  it("stops generating when another worker took the job's lease over, recording and charging nothing", async () => {
    const workspaceId = await newWorkspace();
    const job = await submit(t.platform, workspaceId, { ...LONG_JOB, n: 2 });
    const { body, receiptHandle } = await receiveOne(t.config.queueUrl);
    assert.equal(JSON.parse(body).jobId, job.id);
    const outcome = processJobMessage(context({ modelDir: benchDir(), workerId: "worker-stalled" }), body).then(
      () => "resolved",
      (err: unknown) => err,
    );
    await waitFor("the job to be mid-run", async () => {
      const row = await jobRow(t.platform, job.id);
      return row.status === "running" && row.progressStep >= 1;
    });
    // As if this worker had stalled past its lease and another one had claimed the job.
    const stolen = await t.platform.db.job.updateMany({
      where: { id: job.id, leaseOwner: "worker-stalled" },
      data: { leaseOwner: "worker-other", leaseExpiresAt: new Date(Date.now() + 60_000), attempts: { increment: 1 } },
    });
    assert.equal(stolen.count, 1);

    const err = await outcome;
    assert.ok(err instanceof JobInterruptedError, `expected an interruption, got ${String(err)}`);
    assert.equal(err.reason, "lease_lost");
    const row = await jobRow(t.platform, job.id);
    assert.equal(row.status, "running");
    assert.equal(row.leaseOwner, "worker-other", "the new owner keeps the job");
    assert.equal(row.creditsCharged, 0);
    assert.equal((await getJob(t.platform, workspaceId, job.id)).images.length, 0);
    assert.deepEqual((await t.platform.db.creditEntry.findMany({ where: { jobId: job.id } })).map((e) => e.kind), ["reserve"]);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: t.config.queueUrl, ReceiptHandle: receiptHandle }));
  });

  it("cancels a running job when its owner asks: it stops between steps, ends canceled and is not charged", async () => {
    const workspaceId = await newWorkspace();
    const job = await submit(t.platform, workspaceId, { ...LONG_JOB, n: 2 });
    const { body, receiptHandle } = await receiveOne(t.config.queueUrl);
    assert.equal(JSON.parse(body).jobId, job.id);
    const metrics = new WorkerMetrics();
    const run = processJobMessage(context({ modelDir: benchDir(), metrics, cancelPollMs: 50 }), body);
    await waitFor("the job to be mid-run", async () => {
      const row = await jobRow(t.platform, job.id);
      return row.status === "running" && row.progressStep >= 1;
    });
    assert.equal(await requestCancel(t.platform, workspaceId, job.id), "cancellation_requested");
    await run; // resolves: the message is done with
    const row = await jobRow(t.platform, job.id);
    assert.equal(row.status, "canceled");
    assert.equal(row.errorCode, "canceled");
    assert.ok(row.progressStep < LONG_JOB.steps, `stopped at step ${row.progressStep}`);
    assert.equal(row.creditsCharged, 0);
    assert.equal(row.creditsReleased, row.creditsReserved);
    assert.equal((await getJob(t.platform, workspaceId, job.id)).images.length, 0);
    assert.equal(await balance(t.platform, workspaceId), 50);
    await assertSettledOnce(t.platform, job.id, "release");
    assert.equal((await metrics.jobs.get()).values.find((v) => v.labels.outcome === "canceled")?.value, 1);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: t.config.queueUrl, ReceiptHandle: receiptHandle }));
  });

  it("fails a job at once on a model error (permanent), releasing its credits", async () => {
    const workspaceId = await newWorkspace();
    const job = await submit(t.platform, workspaceId, { prompt: "no model", width: 64, height: 64, steps: 2 });
    const { body, receiptHandle } = await receiveOne(t.config.queueUrl);
    assert.equal(JSON.parse(body).jobId, job.id);
    // Resolving (no throw) means the message is deleted: no retry of a job that cannot succeed.
    await processJobMessage(context({ modelDir: join(modelsDir, "missing") }), body);
    const failed = await jobRow(t.platform, job.id);
    assert.equal(failed.status, "failed");
    assert.equal(failed.attempts, 1);
    assert.equal(failed.errorCode, "generation_failed");
    assert.equal(failed.creditsReleased, failed.creditsReserved);
    assert.equal(await balance(t.platform, workspaceId), 50);
    await assertSettledOnce(t.platform, job.id, "release");
    await sqs.send(new DeleteMessageCommand({ QueueUrl: t.config.queueUrl, ReceiptHandle: receiptHandle }));
  });

  it("fails a job whose message SQS dead-lettered after 5 receives, releasing its credits", async () => {
    const workspaceId = await newWorkspace();
    const job = await submit(t.platform, workspaceId, { prompt: "never finishes", width: 64, height: 64, steps: 2 });
    // Five receives without a delete (a worker crashing each time), then SQS moves it to the DLQ.
    for (let i = 1; i <= 5; i++) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: t.config.queueUrl, WaitTimeSeconds: 1, VisibilityTimeout: 0 }));
      assert.equal(JSON.parse(out.Messages?.[0]?.Body ?? "{}").jobId, job.id, `receive ${i}`);
    }
    const sixth = await sqs.send(new ReceiveMessageCommand({ QueueUrl: t.config.queueUrl, VisibilityTimeout: 0 }));
    assert.equal(sixth.Messages?.length ?? 0, 0);

    const metrics = new WorkerMetrics();
    const sweeper = startDeadLetterSweeper({ platform: t.platform, log: quiet, metrics, leaseMs: 30_000 }, new DeadLetterQueue(sqs, t.config.dlqUrl!), 200);
    try {
      const failed = await waitFor("the sweeper to fail the job", async () => {
        const row = await jobRow(t.platform, job.id);
        return row.status === "failed" && row;
      });
      assert.equal(failed.errorCode, "dead_lettered");
      assert.equal(failed.creditsReleased, failed.creditsReserved);
      assert.equal(await balance(t.platform, workspaceId), 50);
      await assertSettledOnce(t.platform, job.id, "release");
      assert.equal((await metrics.jobs.get()).values.find((v) => v.labels.outcome === "dead_lettered")?.value, 1);
    } finally {
      await sweeper.stop();
    }
    // Recorded, then deleted: the dead-letter queue is empty.
    const left = await sqs.send(new ReceiveMessageCommand({ QueueUrl: t.config.dlqUrl!, VisibilityTimeout: 0 }));
    assert.equal(left.Messages?.length ?? 0, 0);
  });

  it("keeps the dead letter of a job a live worker still holds, and leaves the job running", async () => {
    const workspaceId = await newWorkspace();
    const job = await submit(t.platform, workspaceId, { prompt: "still running", width: 64, height: 64, steps: 2 });
    const { body, receiptHandle } = await receiveOne(t.config.queueUrl);
    await sqs.send(new DeleteMessageCommand({ QueueUrl: t.config.queueUrl, ReceiptHandle: receiptHandle }));
    assert.ok((await claimJob(t.platform, job.id, "worker-elsewhere", 60_000)).claimed);
    await t.platform.queue.sendToDeadLetter(body, "a duplicate copy gave up");

    const swept = await sweepDeadLetters({ platform: t.platform, log: quiet, leaseMs: 60_000 }, new DeadLetterQueue(sqs, t.config.dlqUrl!));
    assert.deepEqual(
      swept.map((s) => [s.jobId, s.outcome]),
      [[job.id, "leased"]],
    );
    const row = await jobRow(t.platform, job.id);
    assert.equal(row.status, "running");
    assert.equal(row.creditsReleased, 0);
    assert.equal(await balance(t.platform, workspaceId), 50 - row.creditsReserved);
  });
});
