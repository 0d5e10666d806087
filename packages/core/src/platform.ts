import Stripe from "stripe";
import type { BetterAuthPlugin } from "better-auth";
import type { Config } from "@lucid/config";
import { createDb, type PrismaClient } from "@lucid/db";
import { createSqsClient, SqsJobQueue, type JobQueue } from "@lucid/queue";
import { S3ImageStore, type ImageStore } from "@lucid/storage";

/** Everything the domain talks to. Built once per process from the config. */
export interface Platform {
  config: Config;
  db: PrismaClient;
  queue: JobQueue;
  images: ImageStore;
  stripe: Stripe | null;
  /** Extra better-auth plugins for this process (the web app adds nextCookies, which writes session cookies in server actions). */
  authPlugins?: BetterAuthPlugin[];
}

export function createStripeClient(stripe: NonNullable<Config["stripe"]>): Stripe {
  if (!stripe.apiBase) return new Stripe(stripe.secretKey, { maxNetworkRetries: 2 });
  const url = new URL(stripe.apiBase);
  return new Stripe(stripe.secretKey, {
    host: url.hostname,
    port: Number(url.port || (url.protocol === "https:" ? 443 : 80)),
    protocol: url.protocol.replace(":", "") as "http" | "https",
    maxNetworkRetries: 2,
  });
}

export function createPlatform(config: Config, opts: { authPlugins?: BetterAuthPlugin[] } = {}): Platform {
  return {
    authPlugins: opts.authPlugins,
    config,
    db: createDb(config.databaseUrl),
    queue: new SqsJobQueue(createSqsClient(config.aws), config.queueUrl, config.dlqUrl),
    images: new S3ImageStore(config.aws, config.bucket),
    stripe: config.stripe ? createStripeClient(config.stripe) : null,
  };
}

export async function closePlatform(p: Platform): Promise<void> {
  await p.db.$disconnect();
}

export type HealthReport = { ok: boolean; database: string; queue: string; storage: string };

/** Checks each dependency; the report names the broken part. */
export async function checkHealth(p: Platform): Promise<HealthReport> {
  const probe = async (fn: () => Promise<unknown>) => {
    try {
      await withTimeout(fn(), 3000);
      return "ok";
    } catch (err) {
      return `error: ${(err as Error).message || (err as Error).name}`;
    }
  };
  const [database, queue, storage] = await Promise.all([
    probe(() => p.db.$queryRaw`SELECT 1`),
    probe(() => p.queue.health()),
    probe(() => p.images.health()),
  ]);
  return { ok: [database, queue, storage].every((s) => s === "ok"), database, queue, storage };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), reject(e)),
    );
  });
}
