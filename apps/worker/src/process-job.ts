import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { JobMessage } from "@lucid/contracts";
import {
  claimJob,
  completeJob,
  failJob,
  isCancelRequested,
  recordPreview,
  recordProgress,
  releaseJobLease,
  renewJobLease,
  isUuid,
  type Platform,
  type StoredImage,
} from "@lucid/core";
import { formatParameters, samplerLabel, withPngText, type DiffusionEngine, type SchedulerName } from "@lucid/diffusion";
import type { Logger } from "pino";
import type { WorkerMetrics } from "./metrics.ts";

export interface WorkerContext {
  platform: Platform;
  engine: DiffusionEngine;
  log: Logger;
  workerId: string;
  modelDir: string;
  /** How long a claim holds without progress before another worker may take the job over. */
  leaseMs: number;
  /** Give up on transient failures after this many attempts (SQS would dead-letter at 5 receives). */
  maxAttempts: number;
  /** Renews the lease on a timer this often while a job runs (default leaseMs / 3): one step may outlast the lease. */
  leaseRenewMs?: number;
  metrics?: WorkerMetrics;
  /** How often a running job looks for a cancellation request (default 1000 ms). */
  cancelPollMs?: number;
}

export interface ProcessOptions {
  /** Aborted when the worker must hand the job back (its shutdown grace ran out). */
  signal?: AbortSignal;
}

/**
 * The job was handed back unfinished: on shutdown (job queued again; the
 * caller makes the message visible again) or because another worker took
 * over its lease. Either way the message must not be deleted.
 */
export class JobInterruptedError extends Error {
  constructor(
    readonly reason: "shutdown" | "lease_lost",
    readonly jobId: string,
  ) {
    super(reason === "shutdown" ? `job ${jobId} handed back on shutdown` : `job ${jobId} was taken over by another worker`);
    this.name = "JobInterruptedError";
  }
}

export const newWorkerId = () => `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;

/** Errors that retrying cannot fix: the job fails at once. */
export class PermanentJobError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "PermanentJobError";
  }
}

/**
 * Handles one SQS message body. Resolving means "delete the message";
 * throwing leaves it for redelivery. Bad messages never throw: they are
 * moved to the dead-letter queue and their job (if any) fails with credits released.
 */
export async function processJobMessage(ctx: WorkerContext, body: string | undefined, opts: ProcessOptions = {}): Promise<void> {
  const { platform: p, log, metrics } = ctx;
  let raw: unknown;
  try {
    raw = JSON.parse(body ?? "");
  } catch {
    log.warn({ body: body?.slice(0, 200) }, "message is not JSON; moving it to the dead-letter queue");
    await p.queue.sendToDeadLetter(body ?? "", "not JSON");
    metrics?.job("invalid");
    return;
  }
  const parsed = JobMessage.safeParse(raw);
  if (!parsed.success) {
    const jobId = typeof (raw as { jobId?: unknown })?.jobId === "string" ? (raw as { jobId: string }).jobId : undefined;
    const reason = `invalid job message: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`;
    log.warn({ jobId, reason }, "invalid job message; failing its job and moving it to the dead-letter queue");
    if (jobId && isUuid(jobId)) await failJob(p, jobId, { code: "invalid_job_message", message: "The job could not be read by the worker. You were not charged." });
    await p.queue.sendToDeadLetter(body ?? "", reason);
    metrics?.job("invalid");
    return;
  }
  const message = parsed.data;
  const jobLog = log.child({ jobId: message.jobId });

  // Stopping before the claim: nothing to hand back but the message.
  if (opts.signal?.aborted) throw new JobInterruptedError("shutdown", message.jobId);
  const claim = await claimJob(p, message.jobId, ctx.workerId, ctx.leaseMs);
  if (!claim.claimed) {
    metrics?.job("duplicate");
    if (claim.reason === "leased") {
      // Another worker is running it; keep the message so it is redelivered if that worker dies.
      jobLog.info("job is running on another worker; leaving the message for later");
      throw new Error("job is leased by another worker");
    }
    jobLog.info({ reason: claim.reason }, "duplicate or stale message; dropping it");
    return;
  }
  const job = claim.job;
  if (job.workspaceId !== message.workspaceId) {
    await failJob(p, job.id, { code: "invalid_job_message", message: "The job message does not match the job. You were not charged." }, { workerId: ctx.workerId });
    await p.queue.sendToDeadLetter(body ?? "", "workspace mismatch");
    metrics?.job("invalid");
    return;
  }
  const queueWaitMs = Date.now() - Date.parse(message.enqueuedAt);
  if (Number.isFinite(queueWaitMs)) metrics?.queueWait.observe(Math.max(0, queueWaitMs) / 1000);
  jobLog.info({ attempt: job.attempts, queueWaitMs }, "job started");
  const started = performance.now();

  // The lease is renewed per step (recordProgress) and on a timer, for steps
  // longer than the lease. Losing it means another worker took the job over:
  // stop generating, the result could not be recorded anyway.
  const leaseLost = new AbortController();
  let settled = false;
  let lastProgressStep = 0;
  let lostAfterRun = false;
  const loseLease = () => {
    if (leaseLost.signal.aborted || settled) return;
    jobLog.warn("lost the job's lease to another worker; stopping it");
    leaseLost.abort(new Error("lease lost"));
  };
  // A user's cancel request (core.requestCancel) is seen between steps, at most once per cancelPollMs.
  const canceled = new AbortController();
  let cancelCheckedAt = 0;
  const checkCancel = () => {
    const now = Date.now();
    if (canceled.signal.aborted || settled || now - cancelCheckedAt < (ctx.cancelPollMs ?? 1000)) return;
    cancelCheckedAt = now;
    isCancelRequested(p, job.id).then(
      (requested) => {
        if (requested && !settled && !canceled.signal.aborted) {
          jobLog.info("cancellation requested; stopping the job");
          canceled.abort(new Error("canceled"));
        }
      },
      (err) => jobLog.warn({ err }, "cancellation check failed"),
    );
  };
  const renewal = setInterval(() => {
    renewJobLease(p, job.id, ctx.workerId, ctx.leaseMs).then(
      (held) => held || loseLease(),
      (err) => jobLog.warn({ err }, "lease renewal failed"),
    );
    checkCancel();
  }, ctx.leaseRenewMs ?? Math.max(1, Math.floor(ctx.leaseMs / 3)));
  const signal = AbortSignal.any([leaseLost.signal, canceled.signal, ...(opts.signal ? [opts.signal] : [])]);
  checkCancel();

  try {
    const req = message.request;
    const initImage = req.init_image_id ? await loadInitImage(p, req.init_image_id) : undefined;
    // Previews overwrite one small object per job; writes are chained so an older one never lands last.
    const previewKey = `${job.workspaceId}/${job.id}/preview.webp`;
    let previewWrites = Promise.resolve();
    let lastStepAt = performance.now();
    const pipelineStarted = lastStepAt;
    const result = await ctx.engine.generate(
      {
        modelDir: ctx.modelDir,
        prompt: req.prompt,
        negativePrompt: req.negative_prompt,
        width: req.width,
        height: req.height,
        steps: req.steps,
        guidance: req.guidance,
        seed: req.seed,
        n: req.n,
        ...(initImage ? { initImage, strength: req.strength } : {}),
        ...(p.config.model.defaults.scheduler ? { scheduler: p.config.model.defaults.scheduler as SchedulerName } : {}),
      },
      {
        signal,
        onPreview: ({ step, imageIndex, webp }) => {
          if (imageIndex !== 0) return;
          previewWrites = previewWrites
            .then(() => p.images.put(previewKey, webp, "image/webp"))
            .then(() => recordPreview(p, job.id, ctx.workerId, step, previewKey))
            .catch((err) => jobLog.warn({ err }, "preview update failed"));
        },
        onProgress: ({ step, total }) => {
          lastProgressStep = step;
          const now = performance.now();
          metrics?.stepTime.observe((now - lastStepAt) / 1000);
          lastStepAt = now;
          recordProgress(p, job.id, ctx.workerId, step, total, ctx.leaseMs).then(
            (held) => held || loseLease(),
            (err) => jobLog.warn({ err }, "progress update failed"),
          );
          checkCancel();
        },
      },
    );
    metrics?.pipelineTime.observe((performance.now() - pipelineStarted) / 1000);
    await previewWrites;
    const sampler = samplerLabel(p.config.model.defaults.scheduler ?? (await ctx.engine.load(ctx.modelDir)).defaultScheduler);
    const stored: StoredImage[] = [];
    for (const [index, img] of result.images.entries()) {
      const storageKey = `${job.workspaceId}/${job.id}/${index}.png`;
      const thumbnailKey = `${job.workspaceId}/${job.id}/${index}.thumb.webp`;
      // The generation parameters travel inside the PNG, in AUTOMATIC1111's format.
      const parameters = formatParameters({
        prompt: req.prompt,
        negativePrompt: req.negative_prompt,
        steps: req.steps,
        sampler,
        guidance: req.guidance,
        seed: img.seed,
        width: img.width,
        height: img.height,
        model: req.model,
      });
      await p.images.put(storageKey, withPngText(img.png, "parameters", parameters), "image/png");
      await p.images.put(thumbnailKey, img.thumbnail.webp, "image/webp");
      stored.push({ storageKey, thumbnailKey, width: img.width, height: img.height, seed: img.seed, contentType: "image/png" });
    }
    const completed = await completeJob(p, job.id, ctx.workerId, stored, { promptTruncated: result.promptTruncated });
    settled = true;
    if (completed) {
      metrics?.job("succeeded");
      jobLog.info({ ms: Math.round(performance.now() - started), images: stored.length }, "job succeeded");
      return;
    }
    jobLog.warn({ ms: Math.round(performance.now() - started) }, "job finished here but another worker holds it now; result not recorded");
    // Leave the message alone: the worker that holds the job now also holds the message.
    lostAfterRun = true;
    throw new JobInterruptedError("lease_lost", job.id);
  } catch (err) {
    settled = true;
    if (lostAfterRun) {
      metrics?.job("lease_lost");
      throw err;
    }
    if (canceled.signal.aborted && !leaseLost.signal.aborted) {
      // The user's wish wins over a shutdown: the job ends canceled, credits released, message deleted.
      await failJob(p, job.id, { code: "canceled", message: "Canceled while running. You were not charged." }, { workerId: ctx.workerId, status: "canceled" });
      metrics?.job("canceled");
      jobLog.info({ step: lastProgressStep }, "job canceled");
      return;
    }
    if (opts.signal?.aborted) {
      // Shutdown: queued again, so the message the caller makes visible can run it elsewhere.
      await releaseJobLease(p, job.id, ctx.workerId);
      metrics?.job("released");
      jobLog.warn({ attempt: job.attempts }, "shutdown: job interrupted and handed back to the queue");
      throw new JobInterruptedError("shutdown", job.id);
    }
    if (leaseLost.signal.aborted) {
      metrics?.job("lease_lost");
      throw new JobInterruptedError("lease_lost", job.id);
    }
    const permanent = err instanceof PermanentJobError || isModelInputError(err);
    if (permanent || job.attempts >= ctx.maxAttempts) {
      const code = err instanceof PermanentJobError ? err.code : permanent ? "generation_failed" : "retries_exhausted";
      jobLog.error({ err, code }, "job failed");
      await failJob(p, job.id, { code, message: `${(err as Error).message}. You were not charged.` }, { workerId: ctx.workerId });
      metrics?.job("failed");
      return;
    }
    jobLog.warn({ err, attempt: job.attempts }, "transient failure; the job will be retried");
    metrics?.job("retried");
    await releaseJobLease(p, job.id, ctx.workerId);
    throw err;
  } finally {
    clearInterval(renewal);
  }
}

/** The bytes of a variation's source image; gone means the job can never run. */
async function loadInitImage(p: Platform, imageId: string): Promise<Uint8Array> {
  const image = await p.db.image.findUnique({ where: { id: imageId }, select: { storageKey: true } });
  const object = image ? await p.images.get(image.storageKey) : null;
  if (!object) throw new PermanentJobError("init_image_missing", "The source image of this variation no longer exists");
  return object.body;
}

/** Model/pipeline errors repeat on every attempt; storage and database errors usually do not. */
function isModelInputError(err: unknown): boolean {
  const name = (err as { name?: string })?.name ?? "";
  return name === "ModelError" || name === "PipelineInputError";
}
