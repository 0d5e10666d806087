/**
 * `npm run bench:api`: how fast the real production web app accepts
 * generations. Builds the web app if stale and starts the whole platform
 * (`startPlatform`, embedded PostgreSQL + SQS/S3 emulator) on a free port,
 * WITHOUT a worker: submitted jobs stay queued, so the machine measures the
 * submit path (auth, rate limit, admission, credit reservation, job insert,
 * SQS send) rather than spending its CPU generating images. A user and an API
 * key are created through core; the key's rate limit and the workspace's plan
 * are raised so the limits measure their cost, not refuse; credits are granted
 * so every job can reserve.
 *
 * Then autocannon (a separate process) drives, at the same concurrency:
 *   1. GET  /api/v1/ping          the trivial route: auth + rate limit + JSON
 *   2. POST /api/v1/generations   the submit path
 * and prints requests/s, p50 and p99 latency for both and their ratio.
 * Targets: submit throughput ≥ half of ping's, submit p99 < 100 ms.
 * It also prints the web server's CPU time per request in each phase (from
 * /proc, Linux only): on a shared machine, throughput moves with the
 * neighbours' load, CPU per request much less.
 *
 * Options (environment): BENCH_CONNECTIONS (50), BENCH_SECONDS (10),
 * BENCH_RATE_LIMIT (requests per minute for the key, 1000000).
 * Run it as `npm run bench:api`, which holds /tmp/e2e.lock (one `next build` at a time).
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "@lucid/config";
import { closePlatform, closeRateLimiter, createApiKey, createPlatform, grantCredits, setWorkspacePlan, signUp } from "@lucid/core";
import { freePort } from "@lucid/local-stack";
// The CLI app owns the platform launcher (it depends on core, so core does not declare it back).
import { REPO_ROOT, startPlatform } from "../../../apps/cli/src/platform-process.ts";

const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const rateLimit = Number(process.env.BENCH_RATE_LIMIT ?? 1_000_000);
const BENCH_PLAN = { bench: { requestsPerMinute: rateLimit, maxInFlightJobs: 100_000_000 } };

interface CannonResult {
  requests: { average: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  "2xx": number;
}

/** Runs autocannon in its own process, so the load generator does not share an event loop with the emulator. */
function autocannon(args: string[]): Promise<CannonResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, "node_modules/autocannon/autocannon.js"), "--json", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (b) => (out += b));
    child.stderr.on("data", (b) => (err += b));
    child.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited ${code}: ${err}`));
      try {
        resolve(JSON.parse(out) as CannonResult);
      } catch {
        reject(new Error(`autocannon printed no JSON: ${out.slice(0, 200)} ${err.slice(0, 200)}`));
      }
    });
  });
}

/** The next-server process serving `port` (its environment names the port); null where /proc is missing. */
function webServerPid(port: number): number | null {
  try {
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8");
        if (!cmd.includes("next")) continue;
        const env = readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
        if (env.includes(`PORT=${port}`)) return Number(entry);
      } catch {
        // gone, or not ours to read
      }
    }
  } catch {
    // no /proc
  }
  return null;
}

/** User + system CPU milliseconds the process has used so far. */
function cpuMs(pid: number | null): number {
  if (pid === null) return Number.NaN;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return Number.NaN;
  }
}

const dataDir = mkdtempSync(join(tmpdir(), "lucid-bench-"));
chmodSync(dataDir, 0o755);
const port = await freePort();
const logs: string[] = [];
console.log(`bench:api: starting the platform (production build, no worker) on port ${port}…`);
const running = await startPlatform({ dataDir, port, worker: false, env: { LUCID_PLANS: JSON.stringify(BENCH_PLAN) }, log: (l) => logs.push(l) }).catch((err) => {
  console.error(logs.slice(-40).join("\n"));
  throw err;
});
const p = createPlatform(loadConfig({ ...running.env, NODE_ENV: "production" }));
try {
  const user = await signUp(p, { email: `bench-${Date.now()}@example.com`, password: "benchmark-password" }, { verified: true });
  await setWorkspacePlan(p, user.workspaceId, "bench");
  await grantCredits(p.db, { workspaceId: user.workspaceId, amount: 10_000_000, reason: "API benchmark", externalRef: `bench:${user.workspaceId}` });
  const { key } = await createApiKey(p, user.workspaceId, user.id, { name: "bench", rateLimitPerMinute: rateLimit });

  const auth = ["-H", `authorization=Bearer ${key}`];
  const body = JSON.stringify({ prompt: "a benchmark teapot", width: 64, height: 64, steps: 2 });
  const submit = [...auth, "-H", "content-type=application/json", "-m", "POST", "-b", body, `${running.url}/api/v1/generations`];
  const ping = [...auth, `${running.url}/api/v1/ping`];

  // Warm both routes (module loading, connection pools, JIT) before measuring.
  await autocannon(["-c", "10", "-d", "2", ...ping]);
  await autocannon(["-c", "10", "-d", "2", ...submit]);
  const jobsBefore = await p.db.job.count({ where: { workspaceId: user.workspaceId } });

  const run = ["-c", String(connections), "-d", String(seconds)];
  const web = webServerPid(port);
  const cpu0 = cpuMs(web);
  const trivial = await autocannon([...run, ...ping]);
  const cpu1 = cpuMs(web);
  const submitted = await autocannon([...run, ...submit]);
  const cpu2 = cpuMs(web);
  const jobs = (await p.db.job.count({ where: { workspaceId: user.workspaceId } })) - jobsBefore;

  const row = (name: string, r: CannonResult) =>
    `${name.padEnd(28)} ${r.requests.average.toFixed(0).padStart(8)} ${r.latency.p50.toFixed(0).padStart(8)} ${r.latency.p99.toFixed(0).padStart(8)} ${String(r["2xx"]).padStart(8)} ${String(r.non2xx + r.errors + r.timeouts).padStart(8)}`;
  const ratio = submitted.requests.average / trivial.requests.average;
  console.log(`\n${connections} connections, ${seconds} s each, ${cpus().length} CPUs, load ${loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  console.log(`${"route".padEnd(28)} ${"req/s".padStart(8)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)} ${"2xx".padStart(8)} ${"other".padStart(8)}`);
  console.log(row("GET /api/v1/ping", trivial));
  console.log(row("POST /api/v1/generations", submitted));
  console.log(`\nsubmit / trivial throughput: ${ratio.toFixed(2)} (target ≥ 0.50: ${ratio >= 0.5 ? "met" : "NOT met"})`);
  console.log(`submit p99: ${submitted.latency.p99} ms (target < 100 ms: ${submitted.latency.p99 < 100 ? "met" : "NOT met"})`);
  console.log(`jobs recorded during the measured run: ${jobs} (autocannon counted ${submitted["2xx"]} accepted)`);
  const perRequest = (ms: number, r: CannonResult) => (ms / (r["2xx"] + r.non2xx)).toFixed(2);
  console.log(
    `web server CPU per request (pid ${web ?? "not found"}): ping ${perRequest(cpu1 - cpu0, trivial)} ms, submit ${perRequest(cpu2 - cpu1, submitted)} ms` +
      ` (CPU ratio ping/submit ${((cpu1 - cpu0) / (trivial["2xx"] + trivial.non2xx) / ((cpu2 - cpu1) / (submitted["2xx"] + submitted.non2xx))).toFixed(2)})`,
  );
} finally {
  await closeRateLimiter(p);
  await closePlatform(p);
  await running.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
