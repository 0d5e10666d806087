import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Counter, Histogram, Registry, collectDefaultMetrics } from "prom-client";

/** How a job message ended on this worker (the `outcome` label of `lucid_worker_jobs_total`). */
export type JobOutcome =
  | "succeeded"
  | "failed" // permanent error or retries exhausted: credits released
  | "retried" // transient error: job back to queued, message left for redelivery
  | "released" // shutdown interrupted it: job back to queued, message visible again
  | "canceled" // the user canceled it while it ran: credits released
  | "lease_lost" // another worker took the job over
  | "duplicate" // already finished or running elsewhere
  | "invalid" // unreadable message, dead-lettered
  | "dead_lettered"; // failed by the DLQ sweeper

/**
 * The worker's Prometheus metrics, on a registry of their own so several
 * workers (tests) can live in one process.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly jobs = new Counter({
    name: "lucid_worker_jobs_total",
    help: "Job messages handled, by outcome",
    labelNames: ["outcome"] as const,
    registers: [this.registry],
  });
  readonly queueWait = new Histogram({
    name: "lucid_worker_queue_wait_seconds",
    help: "Time from enqueue to claim",
    buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900],
    registers: [this.registry],
  });
  readonly stepTime = new Histogram({
    name: "lucid_worker_step_seconds",
    help: "Time per denoising step (the first includes text encoding)",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly pipelineTime = new Histogram({
    name: "lucid_worker_pipeline_seconds",
    help: "Time of one whole generation in the engine",
    buckets: [0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300],
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    // Every label shows up at 0 from the start, so rates work without gaps.
    for (const outcome of ["succeeded", "failed", "retried", "released", "canceled", "lease_lost", "duplicate", "invalid", "dead_lettered"] satisfies JobOutcome[]) {
      this.jobs.inc({ outcome }, 0);
    }
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: "lucid_worker_" });
  }

  job(outcome: JobOutcome): void {
    this.jobs.inc({ outcome });
  }
}

/** Serves `GET /metrics` in the Prometheus text format. Port 0 takes a free one. */
export async function serveMetrics(metrics: WorkerMetrics, port: number, host = "0.0.0.0"): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404).end("not found\n");
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": metrics.registry.contentType }).end(text),
      (err: Error) => res.writeHead(500).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shownHost = host === "0.0.0.0" ? "127.0.0.1" : host;
  return {
    server,
    url: `http://${shownHost}:${addr.port}/metrics`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
