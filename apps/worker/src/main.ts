import pino from "pino";
import { ConfigError, loadConfig } from "@lucid/config";
import { createPlatform, closePlatform } from "@lucid/core";
import { DiffusionEngine, ensureFixtureModel } from "@lucid/diffusion";
import { createJobConsumer, createSqsClient } from "@lucid/queue";
import { newWorkerId, processJobMessage, type WorkerContext } from "./process-job.ts";

const log = pino({ name: "lucid-worker" });

async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
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
    leaseMs: 120_000,
    maxAttempts: 5,
  };
  let inFlight: Promise<void> | null = null;
  const consumer = createJobConsumer({
    client: createSqsClient(config.aws),
    queueUrl: config.queueUrl,
    handleMessage: async (message) => {
      const run = processJobMessage(ctx, message.Body);
      inFlight = run.catch(() => undefined);
      try {
        await run;
      } finally {
        inFlight = null;
      }
    },
    onError: (err) => log.warn({ err: err.message }, "queue error"),
  });
  consumer.start();
  log.info({ workerId: ctx.workerId, model: config.model.id, queue: config.queueUrl }, "worker ready, waiting for jobs");

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping: no new jobs; finishing the current one");
    consumer.stop({ abort: false });
    const grace = new Promise((r) => setTimeout(r, 30_000).unref());
    await Promise.race([inFlight ?? Promise.resolve(), grace]);
    await engine.close().catch(() => undefined);
    await closePlatform(platform).catch(() => undefined);
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

main().catch((err) => {
  log.fatal({ err }, "worker crashed on start");
  process.exit(1);
});
