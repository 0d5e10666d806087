import pino from "pino";
import { ConfigError, loadConfig } from "@lucid/config";
import { createPlatform, closePlatform } from "@lucid/core";
import { DiffusionEngine, ensureFixtureModel } from "@lucid/diffusion";
import { createSqsClient } from "@lucid/queue";
import { WorkerMetrics } from "./metrics.ts";
import { newWorkerId, type WorkerContext } from "./process-job.ts";
import { readWorkerSettings, WorkerSettingsError } from "./settings.ts";
import { startWorker } from "./worker.ts";

const log = pino({ name: "lucid-worker" });

// Settings: the platform's from @lucid/config; the worker's own (lease,
// visibility, heartbeat, grace, metrics port, DLQ sweep) from LUCID_WORKER_*,
// described in ./settings.ts.
async function main() {
  let config;
  let settings;
  try {
    config = loadConfig();
    settings = readWorkerSettings();
  } catch (err) {
    if (err instanceof ConfigError || err instanceof WorkerSettingsError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const platform = createPlatform(config);
  if (config.model.id === "lucid-tiny") await ensureFixtureModel(config.model.dir);
  const engine = await DiffusionEngine.create({ executionProvider: config.executionProvider });
  const ctx: WorkerContext = {
    platform,
    engine,
    log,
    workerId: newWorkerId(),
    modelDir: config.model.dir,
    leaseMs: settings.leaseSeconds * 1000,
    maxAttempts: settings.maxAttempts,
    metrics: new WorkerMetrics({ defaultMetrics: true }),
  };
  const worker = await startWorker(ctx, {
    sqs: createSqsClient(config.aws),
    queueUrl: config.queueUrl,
    dlqUrl: config.dlqUrl,
    visibilitySeconds: settings.visibilitySeconds,
    heartbeatSeconds: settings.heartbeatSeconds,
    waitTimeSeconds: settings.waitTimeSeconds,
    dlqSweepSeconds: settings.dlqSweepSeconds,
    metricsPort: settings.metricsPort,
    webhookPollMs: 1000,
    housekeepingSeconds: settings.housekeepingSeconds,
  });
  log.info({ workerId: ctx.workerId, model: config.model.id, queue: config.queueUrl, ...settings }, "worker ready, waiting for jobs");

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) {
      log.warn({ signal }, "second signal: interrupting the current job now");
      worker.interrupt();
      return;
    }
    stopping = true;
    log.info({ signal, graceSeconds: settings.graceSeconds }, "stopping: no new jobs; finishing the current one");
    const { handedBack } = await worker.stop(settings.graceSeconds * 1000);
    await engine.close().catch(() => undefined);
    await closePlatform(platform).catch(() => undefined);
    log.info({ handedBack }, "stopped");
    // pino writes asynchronously to stdout; flush before exiting.
    log.flush();
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((err) => {
  log.fatal({ err }, "worker crashed on start");
  process.exit(1);
});
