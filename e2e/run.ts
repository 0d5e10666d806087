// Runs the Playwright suite against a whole platform started just for it:
// embedded PostgreSQL, the SQS/S3 emulator, the production web build, a worker,
// and the loopback Stripe stand-in the web app is pointed at.
import { spawn } from "node:child_process";
import { mkdtempSync, chmodSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPlatform, REPO_ROOT } from "@lucid/cli/platform-process";
import { freePort } from "@lucid/local-stack";
import { startStripeStandin } from "@lucid/stripe-standin";
import { startOAuthStandin } from "@lucid/testing/oauth-provider-standin";
import { checkAgainstDocument, startContractProxy } from "./contract-proxy.ts";

const dataDir = mkdtempSync(join(tmpdir(), "lucid-e2e-"));
chmodSync(dataDir, 0o755);
const port = await freePort();
const stripe = await startStripeStandin({ webhookSecret: "whsec_e2e_secret", webhookUrl: `http://localhost:${port}/api/stripe/webhook` });
// GitHub sign-in against a loopback server speaking GitHub's OAuth endpoints.
const oauth = await startOAuthStandin({ clientId: "e2e-github-client", clientSecret: "e2e-github-secret" });
const oauthEnv = { GITHUB_CLIENT_ID: "e2e-github-client", GITHUB_CLIENT_SECRET: "e2e-github-secret", LUCID_OAUTH_GITHUB_BASE_URL: oauth.url };
const logs: string[] = [];
// A plan with tiny API limits that 8-keys-limits puts a workspace on (`plans:set`); others keep the defaults.
const E2E_PLANS = JSON.stringify({ "e2e-tiny": { requestsPerMinute: 5, maxInFlightJobs: 2 } });
let platform;
try {
  platform = await startPlatform({
    dataDir,
    port,
    // Loopback webhook targets: the webhooks spec's receiver listens on 127.0.0.1.
    env: { ...stripe.env, ...oauthEnv, LUCID_STARTER_CREDITS: "50", LUCID_PLANS: E2E_PLANS, LUCID_WEBHOOK_ALLOW_LOOPBACK: "true" },
    log: (line) => logs.push(line),
  });
} catch (err) {
  console.error(logs.join("\n"));
  console.error(`e2e: the platform did not start: ${(err as Error).message}`);
  await stripe.stop();
  await oauth.stop();
  process.exit(1);
}
const proxy = await startContractProxy(new URL(platform.url.replace("localhost", "127.0.0.1")));
console.log(`e2e: platform at ${platform.url} (tests go through the contract-checking proxy ${proxy.url}), Stripe stand-in at ${stripe.url}, mail inbox at ${platform.mail?.inboxUrl}`);

let code = await new Promise<number>((resolve) => {
  const child = spawn(process.execPath, [join(REPO_ROOT, "node_modules/@playwright/test/cli.js"), "test", "-c", join(REPO_ROOT, "e2e/playwright.config.ts"), ...process.argv.slice(2)], {
    stdio: "inherit",
    env: { ...process.env, LUCID_E2E_BASE_URL: proxy.url, LUCID_E2E_DATA_DIR: dataDir, LUCID_E2E_MAIL_URL: platform.mail?.inboxUrl, LUCID_E2E_OAUTH_URL: oauth.url, LUCID_PLANS: E2E_PLANS },
  });
  child.on("exit", (c) => resolve(c ?? 1));
});
// Every API answer seen above must match the OpenAPI document the server publishes.
const document = await (await fetch(`${platform.url}/api/v1/openapi.json`)).json();
const problems = checkAgainstDocument(document, proxy.recorded);
const operations = new Set(proxy.recorded.map((r) => `${r.method} ${r.path.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, "{id}")} ${r.status}`));
console.log(`e2e contract: ${proxy.recorded.length} API responses checked against /api/v1/openapi.json (${operations.size} distinct method/path/status)`);
if (problems.length) {
  console.error(`e2e contract: ${problems.length} responses do not match the document:\n${[...new Set(problems)].slice(0, 40).map((p) => `  ${p}`).join("\n")}`);
  if (code === 0) code = 1;
}
await proxy.stop();
if (code !== 0 && process.env.LUCID_E2E_SHOW_LOGS !== "0") console.error(`--- platform log (last 80 lines) ---\n${logs.slice(-80).join("\n")}`);
await platform.stop();
await stripe.stop();
await oauth.stop();
rmSync(dataDir, { recursive: true, force: true });
process.exit(code);
