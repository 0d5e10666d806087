import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { JobMessage } from "@lucid/contracts";
import { claimJob, completeJob, failJob, recordProgress, releaseJobLease, isUuid, type Platform, type StoredImage } from "@lucid/core";
import type { DiffusionEngine } from "@lucid/diffusion";
import type { Logger } from "pino";

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
export async function processJobMessage(ctx: WorkerContext, body: string | undefined): Promise<void> {
  const { platform: p, log } = ctx;
  let raw: unknown;
  try {
    raw = JSON.parse(body ?? "");
  } catch {
    log.warn({ body: body?.slice(0, 200) }, "message is not JSON; moving it to the dead-letter queue");
    await p.queue.sendToDeadLetter(body ?? "", "not JSON");
    return;
  }
  const parsed = JobMessage.safeParse(raw);
  if (!parsed.success) {
    const jobId = typeof (raw as { jobId?: unknown })?.jobId === "string" ? (raw as { jobId: string }).jobId : undefined;
    const reason = `invalid job message: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`;
    log.warn({ jobId, reason }, "invalid job message; failing its job and moving it to the dead-letter queue");
    if (jobId && isUuid(jobId)) await failJob(p, jobId, { code: "invalid_job_message", message: "The job could not be read by the worker. You were not charged." });
    await p.queue.sendToDeadLetter(body ?? "", reason);
    return;
  }
  const message = parsed.data;
  const jobLog = log.child({ jobId: message.jobId });

  const claim = await claimJob(p, message.jobId, ctx.workerId, ctx.leaseMs);
  if (!claim.claimed) {
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
    return;
  }
  jobLog.info({ attempt: job.attempts }, "job started");
  const started = performance.now();

  try {
    const req = message.request;
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
      },
      {
        onProgress: ({ step, total }) => {
          recordProgress(p, job.id, ctx.workerId, step, total, ctx.leaseMs).catch((err) => jobLog.warn({ err }, "progress update failed"));
        },
      },
    );
    const stored: StoredImage[] = [];
    for (const [index, img] of result.images.entries()) {
      const storageKey = `${job.workspaceId}/${job.id}/${index}.png`;
      await p.images.put(storageKey, img.png, "image/png");
      stored.push({ storageKey, width: img.width, height: img.height, seed: img.seed, contentType: "image/png" });
    }
    const completed = await completeJob(p, job.id, ctx.workerId, stored);
    jobLog.info({ ms: Math.round(performance.now() - started), images: stored.length, completed }, "job succeeded");
  } catch (err) {
    const permanent = err instanceof PermanentJobError || isModelInputError(err);
    if (permanent || job.attempts >= ctx.maxAttempts) {
      const code = err instanceof PermanentJobError ? err.code : permanent ? "generation_failed" : "retries_exhausted";
      jobLog.error({ err, code }, "job failed");
      await failJob(p, job.id, { code, message: `${(err as Error).message}. You were not charged.` }, { workerId: ctx.workerId });
      return;
    }
    jobLog.warn({ err, attempt: job.attempts }, "transient failure; the job will be retried");
    await releaseJobLease(p, job.id, ctx.workerId);
    throw err;
  }
}

/** Model/pipeline errors repeat on every attempt; storage and database errors usually do not. */
function isModelInputError(err: unknown): boolean {
  const name = (err as { name?: string })?.name ?? "";
  return name === "ModelError" || name === "PipelineInputError";
}
