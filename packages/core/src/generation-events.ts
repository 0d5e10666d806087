// Following a job while it runs: waiting for its end (Prefer: wait, the
// OpenAI-compatible endpoint) and the server-sent event stream of
// GET /api/v1/generations/{id}/events. Both poll the job row: no schema
// change and no extra connection per listener. PostgreSQL LISTEN/NOTIFY on
// job updates would push changes instead (one listening connection per web
// process fanning out to streams) once the number of watchers makes polling costly.
import { setTimeout as sleep } from "node:timers/promises";
import { GENERATION_EVENT, type Generation, type JobStatus } from "@lucid/contracts";
import type { Image, Job } from "@lucid/db";
import type { Platform } from "./platform.ts";

export type JobWithImages = Job & { images: Image[] };

export const TERMINAL_STATUSES: readonly JobStatus[] = ["succeeded", "failed", "canceled"];
export const isTerminalStatus = (status: string) => (TERMINAL_STATUSES as readonly string[]).includes(status);

/** How often watchers read the job row. */
export const JOB_POLL_MS = 250;
/** Default interval of `: keep-alive` comments (LUCID_SSE_KEEPALIVE_MS overrides it). */
export const SSE_KEEPALIVE_MS = 15_000;

export interface WatchOptions {
  pollMs?: number;
  signal?: AbortSignal;
}

// What makes a change worth an event: any write (updatedAt), plus the fields
// clients read, in case two writes land within one millisecond.
const changeKey = (j: Job) => `${j.updatedAt.getTime()}|${j.status}|${j.progressStep}|${j.progressTotal}|${j.previewStep ?? ""}`;

const loadJob = (p: Platform, workspaceId: string, jobId: string) =>
  p.db.job.findFirst({ where: { id: jobId, workspaceId }, include: { images: { orderBy: { index: "asc" } } } });

/** Resolves after `ms`, or early (without throwing) when `signal` aborts. */
async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await sleep(ms, undefined, signal ? { signal } : undefined);
  } catch {
    // aborted: the caller checks its signal
  }
}

/**
 * Yields the job now and then each time it changes (status, progress step,
 * preview, any update), ending after its terminal state, when it disappears,
 * or when `signal` aborts. The caller has already checked the job exists in
 * the workspace (getJob), so a missing job simply ends the watch.
 */
export async function* watchJob(p: Platform, workspaceId: string, jobId: string, opts: WatchOptions = {}): AsyncGenerator<JobWithImages> {
  const pollMs = opts.pollMs ?? JOB_POLL_MS;
  let last: string | null = null;
  while (!opts.signal?.aborted) {
    const job = await loadJob(p, workspaceId, jobId);
    if (!job) return;
    const key = changeKey(job);
    if (key !== last) {
      last = key;
      yield job;
    }
    if (isTerminalStatus(job.status)) return;
    await pause(pollMs, opts.signal);
  }
}

/**
 * Waits until the job ends or `timeoutMs` pass (or `signal` aborts), and
 * returns it as it is then: terminal, or still queued/running.
 */
export async function waitForJobEnd(
  p: Platform,
  workspaceId: string,
  jobId: string,
  opts: { timeoutMs: number; pollMs?: number; signal?: AbortSignal },
): Promise<JobWithImages | null> {
  const timeout = AbortSignal.timeout(Math.max(0, opts.timeoutMs));
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let latest: JobWithImages | null = null;
  for await (const job of watchJob(p, workspaceId, jobId, { pollMs: opts.pollMs, signal })) latest = job;
  // The watch may have stopped on the deadline between two reads: the newest state wins.
  return (await loadJob(p, workspaceId, jobId)) ?? latest;
}

export interface GenerationEventStreamOptions extends WatchOptions {
  /** Renders the job as the API's generation object (signed URLs and all). */
  render(job: JobWithImages): Promise<Generation>;
  keepAliveMs?: number;
}

/**
 * The text/event-stream body of GET /api/v1/generations/{id}/events: one
 * `event: generation` per change with the full object as `data` and ids from
 * 1, a `: keep-alive` comment every `keepAliveMs`, and the end of the stream
 * after the terminal object. Stops polling when `signal` aborts (the client
 * went away) or the reader cancels.
 */
export function generationEventStream(p: Platform, workspaceId: string, jobId: string, opts: GenerationEventStreamOptions): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  let keepAlive: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  const finish = (controller: ReadableStreamDefaultController<Uint8Array>, err?: unknown) => {
    if (closed) return;
    closed = true;
    clearInterval(keepAlive);
    stop.abort();
    if (err) controller.error(err);
    else controller.close();
  };
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        if (!closed) controller.enqueue(encoder.encode(text));
      };
      keepAlive = setInterval(() => send(": keep-alive\n\n"), opts.keepAliveMs ?? SSE_KEEPALIVE_MS);
      signal.addEventListener("abort", () => finish(controller), { once: true });
      void (async () => {
        let id = 0;
        try {
          for await (const job of watchJob(p, workspaceId, jobId, { pollMs: opts.pollMs, signal })) {
            const generation = await opts.render(job);
            send(`id: ${++id}\nevent: ${GENERATION_EVENT}\ndata: ${JSON.stringify(generation)}\n\n`);
          }
          finish(controller);
        } catch (err) {
          if (signal.aborted) finish(controller);
          else finish(controller, err);
        }
      })();
    },
    cancel() {
      closed = true;
      clearInterval(keepAlive);
      stop.abort();
    },
  });
}
