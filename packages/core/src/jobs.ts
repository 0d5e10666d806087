import { randomInt, randomUUID } from "node:crypto";
import {
  GenerationListQuery,
  GenerationRequest,
  MAX_SEED,
  QUEUE_POSITION_CAP,
  creditCost,
  describeFieldErrors,
  fieldErrors,
  type CancelOutcome,
  type Generation,
  type JobMessageV1,
  type ResolvedGenerationRequest,
} from "@lucid/contracts";
import type { Image, Job, Prisma } from "@lucid/db";
import { AppError, notFound } from "./errors.ts";
import { appendLedgerEntry } from "./credits.ts";
import { assertWebhookTarget, isProgressEventStep, recordGenerationEvent } from "./webhooks.ts";
import { admitJob, requestPathSql } from "./limits.ts";
import type { Platform } from "./platform.ts";

export interface Submitter {
  workspaceId: string;
  userId?: string;
  apiKeyId?: string;
  source: "web" | "api";
}

/**
 * Accepts a generation: validates it, reserves its credits and records the job
 * in one transaction, then hands it to the queue. If the queue refuses, the job
 * fails at once and the credits come back.
 */
/** Validates, admits and enqueues a generation; the job comes back with its queue position at admission. */
export async function submitGeneration(p: Platform, who: Submitter, input: unknown): Promise<Job & { queuePosition: number }> {
  const parsed = GenerationRequest.safeParse(input);
  if (!parsed.success) {
    const fields = fieldErrors(parsed.error);
    throw new AppError("validation_failed", describeFieldErrors(fields), fields);
  }
  const model = parsed.data.model ?? p.config.model.id;
  if (model !== p.config.model.id) {
    throw new AppError("unknown_model", `model "${model}" is not served here; available: ${p.config.model.id}`, [
      { field: "model", message: `must be one of: ${p.config.model.id}` },
    ]);
  }
  if (parsed.data.webhook_url) await assertWebhookTarget(p, parsed.data.webhook_url, "webhook_url");
  if (parsed.data.init_image_id) {
    // Variations may start from the caller's own images or public ones, nothing else.
    const source = await p.db.image.findFirst({
      where: { id: parsed.data.init_image_id, OR: [{ workspaceId: who.workspaceId }, { visibility: "public" }] },
      select: { id: true },
    });
    if (!source) {
      throw new AppError("validation_failed", "init_image_id was not found", [{ field: "init_image_id", message: "was not found" }]);
    }
  }
  const defaults = p.config.model.defaults;
  const request: ResolvedGenerationRequest = {
    ...parsed.data,
    width: parsed.data.width ?? defaults.width,
    height: parsed.data.height ?? defaults.height,
    steps: parsed.data.steps ?? defaults.steps,
    guidance: parsed.data.guidance ?? defaults.guidance,
    model,
    seed: parsed.data.seed ?? randomInt(0, MAX_SEED),
    ...(parsed.data.init_image_id ? { strength: parsed.data.strength ?? 0.75 } : {}),
  };
  const cost = creditCost(request);
  const jobId = randomUUID();

  // One statement under the workspace lock: admission, credit reservation and the job row.
  const job = await admitJob(p, {
    jobId,
    workspaceId: who.workspaceId,
    userId: who.userId,
    apiKeyId: who.apiKeyId,
    source: who.source,
    request,
    model,
    cost,
    progressTotal: request.steps,
  });

  const message: JobMessageV1 = { version: 1, jobId, workspaceId: who.workspaceId, request, enqueuedAt: new Date().toISOString() };
  try {
    await p.queue.send(message);
  } catch (err) {
    await failJob(p, jobId, { code: "queue_unavailable", message: "The job queue could not accept the job; you were not charged." });
    throw new AppError("service_unavailable", `The job queue is unavailable (${(err as Error).message}). You were not charged.`);
  }
  return job;
}

export type ClaimOutcome =
  | { claimed: true; job: Job }
  | { claimed: false; reason: "not_found" | "finished" | "leased"; job: Job | null };

/**
 * Takes the job for one worker with a conditional update: a queued job, or a
 * running one whose lease has expired (its worker died). A duplicate delivery
 * of a finished or actively running job is refused, so nothing runs twice.
 */
export async function claimJob(p: Platform, jobId: string, workerId: string, leaseMs: number): Promise<ClaimOutcome> {
  const now = new Date();
  const { taken, job } = await p.db.$transaction(async (tx) => {
    const taken = await tx.job.updateMany({
      where: {
        id: jobId,
        OR: [{ status: "queued" }, { status: "running", leaseExpiresAt: { lt: now } }],
      },
      data: {
        status: "running",
        leaseOwner: workerId,
        leaseExpiresAt: new Date(now.getTime() + leaseMs),
        startedAt: now,
        attempts: { increment: 1 },
        progressStep: 0,
      },
    });
    const job = await tx.job.findUnique({ where: { id: jobId } });
    // Webhooks hear of the first start only, not of a takeover or a rerun after a handback.
    if (taken.count === 1 && job?.attempts === 1) await recordGenerationEvent(tx, p, jobId, "generation.started");
    return { taken, job };
  });
  if (taken.count === 1 && job) return { claimed: true, job };
  if (!job) return { claimed: false, reason: "not_found", job: null };
  return { claimed: false, reason: job.status === "running" ? "leased" : "finished", job };
}

/** Records step progress and extends the lease; false when the worker no longer holds the job. */
export async function recordProgress(p: Platform, jobId: string, workerId: string, step: number, total: number, leaseMs: number): Promise<boolean> {
  const update = (tx: Prisma.TransactionClient | Platform["db"]) =>
    tx.job.updateMany({
      where: { id: jobId, status: "running", leaseOwner: workerId },
      data: { progressStep: step, progressTotal: total, leaseExpiresAt: new Date(Date.now() + leaseMs) },
    });
  if (!isProgressEventStep(step, total)) return (await update(p.db)).count === 1;
  // Every few steps the webhook progress event is recorded with the step, in one transaction.
  return p.db.$transaction(async (tx) => {
    const r = await update(tx);
    if (r.count === 1) await recordGenerationEvent(tx, p, jobId, "generation.progress");
    return r.count === 1;
  });
}

export interface StoredImage {
  storageKey: string;
  thumbnailKey?: string;
  width: number;
  height: number;
  seed: number;
  contentType: string;
}

/** Marks the job succeeded with its stored images and captures the reserved credits, once. */
export async function completeJob(
  p: Platform,
  jobId: string,
  workerId: string,
  images: StoredImage[],
  details: { promptTruncated?: boolean } = {},
): Promise<boolean> {
  return p.db.$transaction(async (tx) => {
    const job = await tx.job.findUnique({ where: { id: jobId } });
    if (!job) return false;
    const done = await tx.job.updateMany({
      where: { id: jobId, status: "running", leaseOwner: workerId },
      data: {
        status: "succeeded",
        creditsCharged: job.creditsReserved,
        progressStep: job.progressTotal,
        finishedAt: new Date(),
        leaseOwner: null,
        leaseExpiresAt: null,
        promptTruncated: details.promptTruncated ?? false,
      },
    });
    if (done.count === 0) return false;
    await tx.image.createMany({
      data: images.map((img, index) => ({
        workspaceId: job.workspaceId,
        jobId,
        index,
        storageKey: img.storageKey,
        thumbnailKey: img.thumbnailKey,
        width: img.width,
        height: img.height,
        seed: BigInt(img.seed),
        contentType: img.contentType,
      })),
    });
    // The reserve already moved the balance; the capture records that it is spent.
    await appendLedgerEntry(tx, {
      workspaceId: job.workspaceId,
      kind: "capture",
      amount: 0,
      externalRef: `job:${jobId}:capture`,
      jobId,
      reason: `Charged ${job.creditsReserved} credits for generation ${jobId}`,
    });
    await recordGenerationEvent(tx, p, jobId, "generation.succeeded");
    return true;
  });
}

type EndableJob = Prisma.JobWhereInput;

/**
 * The one way a job ends without images: a conditional update (only from the
 * states `where` allows) plus the release of its reserved credits, in one
 * transaction, so concurrent endings release at most once.
 */
async function endJobWithoutImages(
  p: Platform,
  jobId: string,
  where: (now: Date) => EndableJob,
  status: "failed" | "canceled",
  error: { code: string; message: string },
): Promise<{ ended: boolean; job: Job | null }> {
  return p.db.$transaction(async (tx) => {
    const job = await tx.job.findUnique({ where: { id: jobId } });
    if (!job) return { ended: false, job: null };
    const now = new Date();
    const ended = await tx.job.updateMany({
      where: { id: jobId, ...where(now) },
      data: {
        status,
        errorCode: error.code,
        errorMessage: error.message,
        creditsReleased: job.creditsReserved,
        finishedAt: now,
        leaseOwner: null,
        leaseExpiresAt: null,
      },
    });
    if (ended.count === 0) return { ended: false, job };
    await appendLedgerEntry(tx, {
      workspaceId: job.workspaceId,
      kind: "release",
      amount: job.creditsReserved,
      externalRef: `job:${jobId}:release`,
      jobId,
      reason: `Released ${job.creditsReserved} credits: generation ${status} (${error.code})`,
    });
    await recordGenerationEvent(tx, p, jobId, status === "failed" ? "generation.failed" : "generation.canceled");
    return { ended: true, job };
  });
}

/**
 * Ends a job as failed (or canceled) and gives its reserved credits back, once.
 * With `workerId`, only if that worker still holds it.
 */
export async function failJob(
  p: Platform,
  jobId: string,
  error: { code: string; message: string },
  opts: { workerId?: string; status?: "failed" | "canceled"; onlyQueued?: boolean } = {},
): Promise<boolean> {
  const where = (): EndableJob =>
    opts.workerId
      ? { status: "running", leaseOwner: opts.workerId }
      : { status: { in: opts.onlyQueued ? ["queued"] : ["queued", "running"] } };
  return (await endJobWithoutImages(p, jobId, where, opts.status ?? "failed", error)).ended;
}

/** Puts a job the worker could not finish back to queued so the redelivered message can run it. */
export async function releaseJobLease(p: Platform, jobId: string, workerId: string): Promise<void> {
  await p.db.job.updateMany({
    where: { id: jobId, status: "running", leaseOwner: workerId },
    data: { status: "queued", leaseOwner: null, leaseExpiresAt: null, progressStep: 0 },
  });
}

/**
 * Extends the lease of a job this worker holds without touching its progress
 * (for steps longer than the lease); false when the worker no longer holds it.
 */
export async function renewJobLease(p: Platform, jobId: string, workerId: string, leaseMs: number): Promise<boolean> {
  const r = await p.db.job.updateMany({
    where: { id: jobId, status: "running", leaseOwner: workerId },
    data: { leaseExpiresAt: new Date(Date.now() + leaseMs) },
  });
  return r.count === 1;
}

export type AbandonedJobOutcome = "failed" | "leased" | "finished" | "not_found";

/**
 * Fails a job that nobody is working on (queued, or running with an expired
 * lease) and releases its credits, once: for messages the queue gave up on
 * (dead-lettered). A job a live worker still holds is left alone ("leased").
 */
export async function failAbandonedJob(p: Platform, jobId: string, error: { code: string; message: string }): Promise<AbandonedJobOutcome> {
  const r = await endJobWithoutImages(p, jobId, (now) => ({ OR: [{ status: "queued" }, { status: "running", leaseExpiresAt: { lt: now } }] }), "failed", error);
  if (!r.job) return "not_found";
  if (r.ended) return "failed";
  return r.job.status === "running" ? "leased" : "finished";
}

/**
 * Cancels a job for its workspace. A queued job ends canceled at once with its
 * credits released; a running one is flagged and its worker stops between steps.
 */
export async function requestCancel(p: Platform, workspaceId: string, jobId: string): Promise<CancelOutcome> {
  const job = await getJob(p, workspaceId, jobId);
  if (job.status === "queued") {
    const ended = await failJob(p, job.id, { code: "canceled", message: "Canceled before it started. You were not charged." }, { status: "canceled", onlyQueued: true });
    if (ended) return "canceled";
  }
  const flagged = await p.db.job.updateMany({ where: { id: job.id, status: "running" }, data: { cancelRequestedAt: new Date() } });
  if (flagged.count === 1) return "cancellation_requested";
  const now = await p.db.job.findUniqueOrThrow({ where: { id: job.id }, select: { status: true } });
  return now.status === "canceled" ? "canceled" : "already_finished";
}

/** Whether someone asked to cancel this job (checked by the worker between steps). */
export async function isCancelRequested(p: Platform, jobId: string): Promise<boolean> {
  const job = await p.db.job.findUnique({ where: { id: jobId }, select: { cancelRequestedAt: true } });
  return Boolean(job?.cancelRequestedAt);
}

/** Points the job at its newest live preview. */
export async function recordPreview(p: Platform, jobId: string, workerId: string, step: number, previewKey: string): Promise<void> {
  await p.db.job.updateMany({ where: { id: jobId, status: "running", leaseOwner: workerId }, data: { previewKey, previewStep: step } });
}

export async function getJob(p: Platform, workspaceId: string, jobId: string): Promise<Job & { images: Image[] }> {
  if (!isUuid(jobId)) throw notFound("generation");
  const job = await p.db.job.findFirst({ where: { id: jobId, workspaceId }, include: { images: { orderBy: { index: "asc" } } } });
  if (!job) throw notFound("generation");
  return job;
}

export async function listJobs(p: Platform, workspaceId: string, limit = 20): Promise<Array<Job & { images: Image[] }>> {
  return p.db.job.findMany({
    where: { workspaceId },
    orderBy: { createdAt: "desc" },
    take: limit,
    include: { images: { orderBy: { index: "asc" } } },
  });
}

/** How a generation object reaches its images (signed URL, app route). */
export interface GenerationUrls {
  /** Origin for the job's own API links (status, cancel, events); relative links without it. */
  apiOrigin?: string;
  image(img: Image): Promise<string> | string;
  thumbnail?(img: Image): Promise<string> | string;
  preview?(job: Job): Promise<string> | string;
}

/**
 * How many queued jobs, across the platform, were created before this one
 * (0 = next in line), counted up to `cap` (QUEUE_POSITION_CAP: a deeper queue
 * reads as the cap, so the count never walks the whole backlog); null unless
 * it is queued. One count query, ordered like the list (createdAt, then id);
 * on the request path's plain connection, since every submit's answer carries it.
 */
export async function queuePosition(p: Platform, job: Pick<Job, "id" | "status" | "createdAt">, cap = QUEUE_POSITION_CAP): Promise<number | null> {
  if (job.status !== "queued") return null;
  const { rows } = await requestPathSql(p).query<{ ahead: number }>(
    `SELECT count(*)::integer AS ahead FROM (
       SELECT 1 FROM "Job"
       WHERE "status" = 'queued' AND ("createdAt" < $1::timestamp(3) OR ("createdAt" = $1::timestamp(3) AND "id" < $2::uuid))
       LIMIT $3) AS ahead`,
    [job.createdAt.toISOString(), job.id, cap],
  );
  return rows[0]!.ahead;
}

/**
 * The API's job object. `urls` decides how images are reached (signed URL,
 * app route); with the platform, a queued job also gets its `queue_position`
 * (without it, `queue_position` is null).
 */
export async function toGeneration(
  job: Job & { images: Image[]; queuePosition?: number },
  urls: GenerationUrls | ((img: Image) => Promise<string> | string),
  p?: Platform,
): Promise<Generation> {
  const u: GenerationUrls = typeof urls === "function" ? { image: urls } : urls;
  // A just-admitted job carries the position counted with it; otherwise count now.
  const position = job.status !== "queued" ? null : job.queuePosition ?? (p ? await queuePosition(p, job) : null);
  const showPreview = job.status === "running" && job.previewKey && u.preview;
  return {
    id: job.id,
    object: "generation",
    status: job.status,
    request: job.request as ResolvedGenerationRequest,
    progress: { step: job.progressStep, total: job.progressTotal, preview_url: showPreview ? await u.preview!(job) : null },
    prompt_truncated: job.promptTruncated,
    images: await Promise.all(
      job.images.map(async (img) => ({
        id: img.id,
        url: await u.image(img),
        thumbnail_url: img.thumbnailKey && u.thumbnail ? await u.thumbnail(img) : null,
        width: img.width,
        height: img.height,
        seed: Number(img.seed),
        content_type: img.contentType,
      })),
    ),
    error: job.errorCode ? { code: job.errorCode, message: job.errorMessage ?? "" } : null,
    credits_reserved: job.creditsReserved,
    credits_charged: job.creditsCharged,
    credits_released: job.creditsReleased,
    created_at: job.createdAt.toISOString(),
    started_at: job.startedAt?.toISOString() ?? null,
    finished_at: job.finishedAt?.toISOString() ?? null,
    queue_position: position,
    status_url: `${u.apiOrigin ?? ""}/api/v1/generations/${job.id}`,
    cancel_url: `${u.apiOrigin ?? ""}/api/v1/generations/${job.id}/cancel`,
    events_url: `${u.apiOrigin ?? ""}/api/v1/generations/${job.id}/events`,
  };
}

export interface GenerationPage {
  jobs: Array<Job & { images: Image[] }>;
  /** Opaque cursor of the next page; null on the last one. */
  nextCursor: string | null;
}

// The cursor is the (createdAt, id) of the page's last job: stable under
// inserts, unlike an offset. Base64url JSON, opaque to clients.
const encodeCursor = (job: Pick<Job, "createdAt" | "id">) => Buffer.from(JSON.stringify([job.createdAt.toISOString(), job.id])).toString("base64url");

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const invalid = new AppError("validation_failed", "cursor is not a valid cursor", [{ field: "cursor", message: "is not a valid cursor" }]);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(value) || value.length !== 2 || typeof value[0] !== "string" || typeof value[1] !== "string" || !isUuid(value[1])) throw invalid;
  const createdAt = new Date(value[0]);
  if (Number.isNaN(createdAt.getTime())) throw invalid;
  return { createdAt, id: value[1] };
}

/**
 * A page of the workspace's jobs, newest first (createdAt, then id), from the
 * raw query of GET /api/v1/generations (`limit`, `cursor`, `status`).
 */
export async function listGenerations(p: Platform, workspaceId: string, input: unknown): Promise<GenerationPage> {
  const parsed = GenerationListQuery.safeParse(input);
  if (!parsed.success) {
    const fields = fieldErrors(parsed.error);
    throw new AppError("validation_failed", describeFieldErrors(fields), fields);
  }
  const { limit, cursor, status } = parsed.data;
  const after = cursor ? decodeCursor(cursor) : null;
  const rows = await p.db.job.findMany({
    where: {
      workspaceId,
      ...(status ? { status } : {}),
      ...(after ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] } : {}),
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: limit + 1,
    include: { images: { orderBy: { index: "asc" } } },
  });
  const jobs = rows.slice(0, limit);
  return { jobs, nextCursor: rows.length > limit ? encodeCursor(jobs[jobs.length - 1]!) : null };
}

export const isUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s);

export * from "./generation-events.ts";
