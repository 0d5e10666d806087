import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import pino from "pino";
import { ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { getJob, signUp, submitGeneration } from "@lucid/core";
import { DiffusionEngine, ensureFixtureModel } from "@lucid/diffusion";
import { createSqsClient } from "@lucid/queue";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";
import { startWorker } from "../src/worker.ts";
import { assertSettledOnce, balance, jobRow, waitFor } from "./helpers.ts";

const repoRoot = fileURLToPath(new URL("../../..", import.meta.url));

/** The real worker process (`main.ts`), as `npm start` and the container run it. */
class WorkerProcess {
  readonly child: ChildProcess;
  output = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  constructor(env: Record<string, string>) {
    const inherited = { ...process.env };
    delete inherited.NODE_TEST_CONTEXT; // the child is a worker, not a test file
    this.child = spawn(process.execPath, ["--import", "tsx", "apps/worker/src/main.ts"], {
      cwd: repoRoot,
      env: { ...inherited, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout!.on("data", (d) => (this.output += d));
    this.child.stderr!.on("data", (d) => (this.output += d));
    this.exited = once(this.child, "exit").then(([code, signal]) => ({ code, signal }));
  }

  /** Sends the signal and waits for the exit; a hung process is killed so the test fails instead of hanging. */
  async signal(sig: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    this.child.kill(sig);
    const guard = setTimeout(() => this.child.kill("SIGKILL"), 60_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(guard);
    }
  }
}

describe("worker process: shutdown and crashes never lose or double-charge a job", () => {
  let t: TestPlatform;
  let engine: DiffusionEngine;
  let sqs: SQSClient;
  let modelDir: string;
  const children: WorkerProcess[] = [];
  let users = 0;

  const spawnWorker = (env: Record<string, string>) => {
    const w = new WorkerProcess({
      ...t.env,
      LUCID_WORKER_METRICS_PORT: "0",
      LUCID_WORKER_DLQ_SWEEP_SECONDS: "0",
      LUCID_WORKER_WAIT_SECONDS: "1",
      ...env,
    });
    children.push(w);
    return w;
  };
  const newWorkspace = async () => (await signUp(t.platform, { email: `proc${++users}@example.com`, password: "password123" })).workspaceId;
  /** Waits until the job is running on a worker and has made progress (so it is mid-run). */
  const midRun = (jobId: string, w: WorkerProcess) =>
    waitFor(`job ${jobId} to be mid-run`, async () => {
      if (w.child.exitCode !== null) throw new Error(`worker exited early:\n${w.output}`);
      const row = await jobRow(t.platform, jobId);
      return row.status === "running" && row.progressStep >= 1 && row;
    }, { tries: 1200 });
  /** A fresh worker in this process, on the same queue. */
  const freshWorker = (workerId: string, leaseMs: number) =>
    startWorker(
      { platform: t.platform, engine, log: pino({ level: "silent" }), workerId, modelDir, leaseMs, maxAttempts: 5 },
      { sqs, queueUrl: t.config.queueUrl, visibilitySeconds: 3, heartbeatSeconds: 1, waitTimeSeconds: 1 },
    );
  const finished = (jobId: string) =>
    waitFor(`job ${jobId} to finish`, async () => {
      const row = await jobRow(t.platform, jobId);
      return (row.status === "succeeded" || row.status === "failed") && row;
    }, { tries: 1200 });

  before(async () => {
    modelDir = mkdtempSync(join(tmpdir(), "lucid-worker-bench-"));
    // The bench fixture takes tens of ms per step: jobs last long enough to be interrupted.
    [t] = await Promise.all([startTestPlatform({ LUCID_MODEL_ID: "lucid-bench", LUCID_MODEL_DIR: modelDir }), ensureFixtureModel(modelDir, { size: "bench" })]);
    sqs = createSqsClient(t.config.aws);
    engine = await DiffusionEngine.create({ executionProvider: "cpu" });
  });
  after(async () => {
    for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill("SIGKILL");
    await engine?.close();
    await t?.stop();
    rmSync(modelDir, { recursive: true, force: true });
  });

  it("SIGTERM mid-job: past its grace period the worker hands the job back and exits 0; a fresh worker completes it once", async (tc) => {
    const workspaceId = await newWorkspace();
    const job = await submitGeneration(t.platform, { workspaceId, source: "api" }, { prompt: "interrupted", width: 512, height: 512, steps: 50, n: 2, seed: 11 });
    // A long visibility timeout: if the message comes back soon, it is because the worker let it go.
    const w = spawnWorker({ LUCID_WORKER_GRACE_SECONDS: "1", LUCID_WORKER_VISIBILITY_SECONDS: "120", LUCID_WORKER_LEASE_SECONDS: "120" });
    await midRun(job.id, w);

    const exit = await w.signal("SIGTERM");
    assert.deepEqual(exit, { code: 0, signal: null }, w.output);

    const after = await jobRow(t.platform, job.id);
    tc.diagnostic(`after SIGTERM the job was ${after.status}`);
    if (after.status === "queued") {
      // Handed back: lease released and the message visible again at once (not after 120 s).
      assert.equal(after.leaseOwner, null);
      assert.equal(after.creditsReleased, 0, "the reservation stands");
      assert.match(w.output, /handed back to the queue/);
      const peek = await waitFor(
        "the message to be receivable again",
        async () => (await sqs.send(new ReceiveMessageCommand({ QueueUrl: t.config.queueUrl, WaitTimeSeconds: 1, VisibilityTimeout: 0 }))).Messages?.[0],
        { tries: 5, everyMs: 0 },
      );
      assert.equal(JSON.parse(peek.Body!).jobId, job.id);
    } else {
      // It finished within the grace period: that is fine too, as long as it counted once.
      assert.equal(after.status, "succeeded", w.output);
    }

    const fresh = await freshWorker("worker-fresh", 30_000);
    try {
      const done = after.status === "queued" ? await finished(job.id) : after;
      assert.equal(done.status, "succeeded");
      assert.equal(done.creditsCharged, 4);
      assert.equal((await getJob(t.platform, workspaceId, job.id)).images.length, 2);
      assert.equal(await balance(t.platform, workspaceId), 50 - 4);
      await assertSettledOnce(t.platform, job.id, "capture");
    } finally {
      await fresh.stop(0);
    }
  });

  it("SIGKILL mid-job: once the message and the lease expire, another worker takes the job over and completes it once", async () => {
    const workspaceId = await newWorkspace();
    const job = await submitGeneration(t.platform, { workspaceId, source: "api" }, { prompt: "crashed", width: 512, height: 512, steps: 50, n: 2, seed: 12 });
    const w = spawnWorker({ LUCID_WORKER_LEASE_SECONDS: "2", LUCID_WORKER_VISIBILITY_SECONDS: "3", LUCID_WORKER_HEARTBEAT_SECONDS: "1" });
    const running = await midRun(job.id, w);
    const crashed = await w.signal("SIGKILL");
    assert.equal(crashed.signal, "SIGKILL");
    assert.equal((await jobRow(t.platform, job.id)).status, "running", "the dead worker still holds the job until its lease expires");

    const takeover = await freshWorker("worker-b", 2_000);
    try {
      const done = await finished(job.id);
      assert.equal(done.status, "succeeded");
      assert.equal(done.attempts, 2, "claimed by the crashed worker, then taken over once");
      assert.ok(running.leaseOwner?.includes(`:${w.child.pid}:`), `first held by the killed process, not ${running.leaseOwner}`);
      assert.equal(done.creditsCharged, 4);
      assert.equal((await getJob(t.platform, workspaceId, job.id)).images.length, 2);
      assert.equal(await balance(t.platform, workspaceId), 50 - 4);
      await assertSettledOnce(t.platform, job.id, "capture");
      assert.equal((await takeover.metrics.jobs.get()).values.find((v) => v.labels.outcome === "succeeded")?.value, 1);
    } finally {
      await takeover.stop(0);
    }
  });
});
