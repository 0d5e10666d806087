import type { SQSClient } from "@aws-sdk/client-sqs";
import { createJobConsumer, DeadLetterQueue, SqsJobQueue } from "@lucid/queue";
import { startDeadLetterSweeper } from "./dead-letters.ts";
import { serveMetrics, WorkerMetrics } from "./metrics.ts";
import { JobInterruptedError, processJobMessage, type WorkerContext } from "./process-job.ts";
import { startWebhookDispatcher } from "./webhook-dispatcher.ts";
import { startHousekeeping } from "./housekeeping.ts";

export interface WorkerLoopOptions {
  sqs: SQSClient;
  queueUrl: string;
  /** The dead-letter queue the sweeper watches; none: no sweeper. */
  dlqUrl?: string;
  /** How long a received message stays hidden; the heartbeat keeps extending it while its job runs. */
  visibilitySeconds: number;
  /** Must be less than visibilitySeconds. */
  heartbeatSeconds: number;
  waitTimeSeconds?: number;
  /** 0 or undefined: no dead-letter sweeper. */
  dlqSweepSeconds?: number;
  /** Serve Prometheus `/metrics` on this port (0: any free port); undefined: no server. */
  metricsPort?: number;
  /** Send due webhook deliveries, polling the outbox this often; 0 or undefined: no dispatcher. */
  webhookPollMs?: number;
  /** Delete expired records this often; 0 or undefined: no housekeeping. */
  housekeepingSeconds?: number;
}

export interface RunningWorker {
  readonly metrics: WorkerMetrics;
  /** Where `/metrics` is served, when it is. */
  readonly metricsUrl?: string;
  /** Messages this worker has received from the jobs queue. */
  readonly receivedCount: number;
  /**
   * Stops receiving and lets the current job finish for up to `graceMs`; then
   * aborts it, puts the job back to queued and makes its message visible again.
   * Resolves when the worker has let go of everything (`handedBack`: a job was interrupted).
   */
  stop(graceMs: number): Promise<{ handedBack: boolean }>;
  /** Ends a stop's grace period at once (a second Ctrl-C). */
  interrupt(): void;
}

/** After the abort, how long to wait for the engine to notice it (it checks between steps). */
const ABORT_WAIT_MS = 15_000;

/**
 * The worker loop: one message at a time from the jobs queue through
 * `processJobMessage`, with the message's visibility extended while the job
 * runs, a dead-letter sweeper, metrics, and a graceful stop.
 */
export async function startWorker(ctx: WorkerContext, opts: WorkerLoopOptions): Promise<RunningWorker> {
  const { log } = ctx;
  const metrics = ctx.metrics ?? new WorkerMetrics();
  const jobCtx: WorkerContext = { ...ctx, metrics };
  const queue = new SqsJobQueue(opts.sqs, opts.queueUrl);
  const shutdown = new AbortController();
  let stopping = false;
  let received = 0;
  let inFlight: Promise<void> | null = null;
  // The receipt handle of a job interrupted by shutdown: made visible once the consumer has let go of it.
  let handBack: string | undefined;
  let currentJobId: string | undefined;

  const consumer = createJobConsumer({
    client: opts.sqs,
    queueUrl: opts.queueUrl,
    visibilityTimeoutSeconds: opts.visibilitySeconds,
    heartbeatSeconds: opts.heartbeatSeconds,
    waitTimeSeconds: opts.waitTimeSeconds,
    handleMessage: async (message) => {
      received++;
      if (stopping) {
        // A long poll that was still open when stop() came: give the message straight back.
        await queue.releaseMessage(message.ReceiptHandle!);
        throw new Error("worker is stopping; message handed back");
      }
      currentJobId = jobIdOf(message.Body);
      const run = processJobMessage(jobCtx, message.Body, { signal: shutdown.signal });
      inFlight = run.then(
        () => undefined,
        (err) => {
          if (err instanceof JobInterruptedError && err.reason === "shutdown") handBack = message.ReceiptHandle;
        },
      );
      try {
        await run;
      } finally {
        inFlight = null;
        currentJobId = undefined;
      }
    },
    onError: (err) => log.warn({ err: err.message }, "queue error"),
    // The message stays on the queue: it is redelivered after its visibility timeout.
    onProcessingError: (err, message) => {
      if (err instanceof JobInterruptedError) return; // logged where it happened
      log.warn({ jobId: jobIdOf(message.Body), err: err.message }, "message left on the queue for redelivery");
    },
  });

  let metricsServer: Awaited<ReturnType<typeof serveMetrics>> | undefined;
  if (opts.metricsPort !== undefined) {
    try {
      metricsServer = await serveMetrics(metrics, opts.metricsPort);
      log.info({ url: metricsServer.url }, "serving metrics");
    } catch (err) {
      // Metrics are not worth refusing jobs over (e.g. two local workers on one port).
      log.warn({ err: (err as Error).message, port: opts.metricsPort }, "metrics server could not start; running without it");
    }
  }
  const sweeper =
    opts.dlqUrl && opts.dlqSweepSeconds
      ? startDeadLetterSweeper({ platform: ctx.platform, log, metrics, leaseMs: ctx.leaseMs }, new DeadLetterQueue(opts.sqs, opts.dlqUrl), opts.dlqSweepSeconds * 1000)
      : undefined;

  const webhooks = opts.webhookPollMs ? startWebhookDispatcher({ platform: ctx.platform, log }, { pollMs: opts.webhookPollMs }) : undefined;
  const housekeeping = opts.housekeepingSeconds ? startHousekeeping({ platform: ctx.platform, log }, opts.housekeepingSeconds * 1000) : undefined;

  consumer.start();

  let stopped: Promise<{ handedBack: boolean }> | undefined;
  const stop = async (graceMs: number): Promise<{ handedBack: boolean }> => {
    stopping = true;
    const current = inFlight;
    // With no job running, also cut the open long poll short; with one, keep the
    // consumer's requests alive so it can still delete the finished message.
    consumer.stop({ abort: !current });
    const sweeperStopped = sweeper?.stop();
    if (current) {
      const jobLog = log.child({ jobId: currentJobId });
      jobLog.info({ graceMs }, "stopping: no new jobs; letting the current one finish");
      if (!(await settlesWithin(current, graceMs, shutdown.signal))) {
        jobLog.warn("grace period over: interrupting the current job");
        shutdown.abort(new Error("worker shutting down"));
        if (!(await settlesWithin(current, ABORT_WAIT_MS))) jobLog.error("the current job did not stop; its lease and message will expire");
      }
    }
    if (handBack) {
      // Let the consumer clear its heartbeat for the message first.
      await new Promise((resolve) => setImmediate(resolve));
      await queue.releaseMessage(handBack).catch((err) => log.warn({ err }, "could not make the message visible again; it reappears after its visibility timeout"));
    }
    await sweeperStopped;
    await webhooks?.stop();
    await housekeeping?.stop();
    await metricsServer?.close();
    return { handedBack: Boolean(handBack) };
  };

  return {
    metrics,
    metricsUrl: metricsServer?.url,
    get receivedCount() {
      return received;
    },
    stop: (graceMs) => (stopped ??= stop(graceMs)),
    interrupt: () => {
      if (stopping) shutdown.abort(new Error("worker interrupted"));
    },
  };
}

/** True when `promise` settles within `ms` (cut short by `cancel`); the timer does not outlive it. */
async function settlesWithin(promise: Promise<unknown>, ms: number, cancel?: AbortSignal): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    cancel?.addEventListener("abort", () => resolve(false), { once: true });
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The job a raw message names, for log lines; undefined when unreadable. */
function jobIdOf(body: string | undefined): string | undefined {
  try {
    const jobId = (JSON.parse(body ?? "") as { jobId?: unknown } | null)?.jobId;
    return typeof jobId === "string" ? jobId : undefined;
  } catch {
    return undefined;
  }
}
