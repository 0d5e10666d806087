// `npm start`: the whole platform on this machine, stopped cleanly by Ctrl-C.
import { ConfigError, loadConfig } from "@lucid/config";
import { startPlatform } from "./platform-process.ts";

const started = performance.now();
const port = Number(process.env.PORT ?? 3000);
const dataDir = process.env.LUCID_DATA_DIR ?? ".lucid";

// Fail fast on malformed settings, before starting anything. Missing endpoints
// are fine: the embedded services provide them.
try {
  loadConfig({ ...process.env, DATABASE_URL: process.env.DATABASE_URL ?? "postgresql://check", LUCID_QUEUE_URL: process.env.LUCID_QUEUE_URL ?? "http://check", LUCID_BUCKET: process.env.LUCID_BUCKET ?? "check", LUCID_SECRET: process.env.LUCID_SECRET ?? "x".repeat(32), LUCID_DATA_DIR: "/nonexistent-lucid-check" });
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}

const platform = await startPlatform({ dataDir, port }).catch((err) => {
  console.error(`Lucid failed to start: ${(err as Error).message}`);
  process.exit(1);
});

const seconds = ((performance.now() - started) / 1000).toFixed(1);
const r = platform.runtime;
console.log(`
Lucid is ready in ${seconds}s

  Web app      ${platform.url}
  Health       ${platform.url}/api/health
  PostgreSQL   ${r.DATABASE_URL}${platform.embedded.postgres ? "  (embedded, data in " + dataDir + "/postgres)" : ""}
  SQS / S3     ${r.AWS_ENDPOINT_URL || "AWS"}${platform.embedded.aws ? "  (embedded emulator)" : ""}
  Jobs queue   ${r.LUCID_QUEUE_URL}
  DLQ          ${r.LUCID_DLQ_URL}
  Bucket       ${r.LUCID_BUCKET}
  Model        ${platform.env.LUCID_MODEL_ID}${platform.env.LUCID_MODEL_ID === "lucid-tiny" ? "  (test model: its images are noise)" : ""}
  Mail         ${platform.mail ? platform.mail.inboxUrl + "  (development inbox: every email the app sends)" : "SMTP " + (platform.env.SMTP_HOST ?? "from SMTP_URL")}
  Billing      ${platform.env.STRIPE_SECRET_KEY ? "Stripe at " + (platform.env.STRIPE_API_BASE ?? "api.stripe.com") : "not configured"}

Operator CLI: npm run lucid -- users:create --email you@example.com --password secret123
Press Ctrl-C to stop.
`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    console.log("\nStopping Lucid…");
    await platform.stop();
    console.log("Stopped.");
    process.exit(0);
  });
}
