// Starts the whole platform on loopback: embedded PostgreSQL and the SQS/S3
// emulator (unless the environment points at real ones), migrations, the web
// app and a worker. `npm start` and the end-to-end tests both use it.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runtimeFilePath, type RuntimeFile } from "@lucid/config";
import { migrateDatabase } from "@lucid/db/migrate";
import { ensureFixtureModel } from "@lucid/diffusion";
import { startAws, startPostgres } from "@lucid/local-stack";
import { startMailCatcher } from "./mail-catcher.ts";

export const REPO_ROOT = fileURLToPath(new URL("../../..", import.meta.url));

export interface PlatformOptions {
  dataDir: string;
  port: number;
  /** Extra environment for the web app and worker (Stripe settings, credits...). */
  env?: Record<string, string | undefined>;
  log?: (line: string) => void;
  /** Build the web app first when its build is missing or older than the sources. */
  build?: boolean;
  /** Start a worker (default true). The API benchmark leaves it out: its jobs stay queued instead of loading the CPU. */
  worker?: boolean;
}

export interface RunningPlatform {
  url: string;
  runtime: RuntimeFile;
  env: Record<string, string>;
  embedded: { postgres: boolean; aws: boolean };
  /** The development mail catcher the web app sends through; null when SMTP is configured. */
  mail: { smtpUrl: string; inboxUrl: string } | null;
  stop(): Promise<void>;
}

function loadSecret(dataDir: string): string {
  const file = join(dataDir, "secret");
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  const secret = randomBytes(32).toString("base64url");
  writeFileSync(file, secret, { mode: 0o600 });
  return secret;
}

function newestMtime(dir: string, skip: Set<string>): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (skip.has(entry.name)) continue;
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path, skip) : statSync(path).mtimeMs);
  }
  return newest;
}

/** True when apps/web has no production build or a source file is newer than it. */
export function webBuildIsStale(): boolean {
  const buildId = join(REPO_ROOT, "apps/web/.next/BUILD_ID");
  if (!existsSync(buildId)) return true;
  const skip = new Set(["node_modules", ".next", "generated", "test", ".turbo"]);
  const sources = Math.max(newestMtime(join(REPO_ROOT, "apps/web"), skip), newestMtime(join(REPO_ROOT, "packages"), skip));
  return sources > statSync(buildId).mtimeMs;
}

export function buildWeb(log: (l: string) => void = console.log): void {
  log("Building the web app (next build)…");
  const r = spawnSync(process.execPath, [join(REPO_ROOT, "node_modules/next/dist/bin/next"), "build"], {
    cwd: join(REPO_ROOT, "apps/web"),
    stdio: "inherit",
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: "1" },
  });
  if (r.status !== 0) throw new Error("next build failed");
}

function spawnService(name: string, args: string[], cwd: string, env: Record<string, string>, log: (l: string) => void): ChildProcess {
  // Own process group, so stopping kills next-server's children too.
  const child = spawn(process.execPath, args, { cwd, env: env as NodeJS.ProcessEnv, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  const forward = (buf: Buffer) => {
    for (const line of buf.toString().split("\n")) if (line.trim()) log(`[${name}] ${line}`);
  };
  child.stdout.on("data", forward);
  child.stderr.on("data", forward);
  return child;
}

async function stopService(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {}
  }, graceMs);
  await exited;
  clearTimeout(timer);
  // Anything left in the group (e.g. next-server) goes too.
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {}
}

async function waitForHealth(url: string, children: ChildProcess[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    for (const c of children) if (c.exitCode !== null) throw new Error(`a platform process exited early (code ${c.exitCode})`);
    try {
      const res = await fetch(`${url}/api/health`);
      if (res.status === 200) return;
      last = await res.text();
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the web app did not become healthy in ${timeoutMs} ms: ${last}`);
}

export async function startPlatform(opts: PlatformOptions): Promise<RunningPlatform> {
  const log = opts.log ?? console.log;
  const dataDir = resolve(opts.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const given = { ...process.env, ...opts.env };
  const cleanups: Array<() => Promise<void>> = [];
  const children: ChildProcess[] = [];

  try {
    let databaseUrl = given.DATABASE_URL;
    if (!databaseUrl) {
      const pg = await startPostgres({ dataDir: join(dataDir, "postgres"), port: Number(given.LUCID_POSTGRES_PORT ?? 0) });
      cleanups.unshift(() => pg.stop());
      databaseUrl = pg.databaseUrl;
    }
    let aws: Omit<RuntimeFile, "DATABASE_URL" | "LUCID_SECRET">;
    const embeddedAws = !given.LUCID_QUEUE_URL;
    if (!embeddedAws) {
      aws = {
        AWS_ENDPOINT_URL: given.AWS_ENDPOINT_URL ?? "",
        AWS_ACCESS_KEY_ID: given.AWS_ACCESS_KEY_ID ?? "",
        AWS_SECRET_ACCESS_KEY: given.AWS_SECRET_ACCESS_KEY ?? "",
        AWS_REGION: given.AWS_REGION ?? "us-east-1",
        LUCID_QUEUE_URL: given.LUCID_QUEUE_URL!,
        LUCID_DLQ_URL: given.LUCID_DLQ_URL ?? "",
        LUCID_BUCKET: given.LUCID_BUCKET ?? "",
      };
    } else {
      const local = await startAws({ dataDir: join(dataDir, "s3"), port: Number(given.LUCID_AWS_PORT ?? 0) });
      cleanups.unshift(() => local.stop());
      aws = {
        AWS_ENDPOINT_URL: local.endpoint,
        AWS_ACCESS_KEY_ID: local.accessKeyId,
        AWS_SECRET_ACCESS_KEY: local.secretAccessKey,
        AWS_REGION: local.region,
        LUCID_QUEUE_URL: local.queueUrl,
        LUCID_DLQ_URL: local.dlqUrl,
        LUCID_BUCKET: local.bucket,
      };
    }
    const { applied } = await migrateDatabase(databaseUrl);
    if (applied.length) log(`Applied migrations: ${applied.join(", ")}`);

    const runtime: RuntimeFile = { DATABASE_URL: databaseUrl, ...aws, LUCID_SECRET: given.LUCID_SECRET ?? loadSecret(dataDir) };
    writeFileSync(runtimeFilePath(dataDir), JSON.stringify(runtime, null, 2), { mode: 0o600 });
    cleanups.unshift(async () => rmSync(runtimeFilePath(dataDir), { force: true }));

    // Emails (verification, password reset) land in a local inbox unless real SMTP is configured.
    let mail: RunningPlatform["mail"] = null;
    if (!given.SMTP_URL && !given.SMTP_HOST) {
      const catcher = await startMailCatcher({ mailDirectory: join(dataDir, "mail"), smtpPort: Number(given.LUCID_MAIL_SMTP_PORT ?? 0), webPort: Number(given.LUCID_MAIL_WEB_PORT ?? 0) });
      cleanups.unshift(() => catcher.stop());
      mail = { smtpUrl: catcher.smtpUrl, inboxUrl: catcher.inboxUrl };
    }

    const modelId = given.LUCID_MODEL_ID ?? "lucid-tiny";
    const modelDir = given.LUCID_MODEL_DIR ?? join(dataDir, "models", modelId);
    if (modelId === "lucid-tiny") await ensureFixtureModel(modelDir);

    const url = `http://localhost:${opts.port}`;
    const env: Record<string, string> = Object.fromEntries(
      Object.entries({
        ...given,
        ...runtime,
        ...(mail ? { SMTP_URL: mail.smtpUrl } : {}),
        LUCID_DATA_DIR: dataDir,
        LUCID_MODEL_ID: modelId,
        LUCID_MODEL_DIR: modelDir,
        LUCID_MODEL_REGISTRY: given.LUCID_MODEL_REGISTRY ?? join(REPO_ROOT, "models.json"),
        LUCID_PUBLIC_URL: given.LUCID_PUBLIC_URL ?? url,
        PORT: String(opts.port),
        NODE_ENV: "production",
        // Under `npm start` a stopping worker hands its job back quickly rather than finishing it.
        LUCID_WORKER_GRACE_SECONDS: given.LUCID_WORKER_GRACE_SECONDS ?? "5",
        NEXT_TELEMETRY_DISABLED: "1",
      }).filter((e): e is [string, string] => typeof e[1] === "string"),
    );

    if (opts.build !== false && webBuildIsStale()) buildWeb(log);
    const web = spawnService("web", [join(REPO_ROOT, "node_modules/next/dist/bin/next"), "start", "-p", String(opts.port), "-H", "127.0.0.1"], join(REPO_ROOT, "apps/web"), env, log);
    children.push(web);
    if (opts.worker !== false) children.push(spawnService("worker", ["--import", "tsx", join(REPO_ROOT, "apps/worker/src/main.ts")], REPO_ROOT, env, log));
    cleanups.unshift(async () => {
      await Promise.all(children.map((c) => stopService(c)));
    });
    await waitForHealth(url, children, 120_000);

    let stopped = false;
    return {
      url,
      runtime,
      env,
      embedded: { postgres: !given.DATABASE_URL, aws: embeddedAws },
      mail,
      stop: async () => {
        if (stopped) return;
        stopped = true;
        for (const c of cleanups) await c().catch((err) => log(`stop: ${(err as Error).message}`));
      },
    };
  } catch (err) {
    for (const c of cleanups) await c().catch(() => undefined);
    throw err;
  }
}
