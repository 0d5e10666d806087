/**
 * Runs the Stripe stand-in beside `npm start`:
 *   tsx packages/stripe-standin/src/cli.ts --port 12111 \
 *     --webhook-url http://localhost:3000/api/stripe/webhook --webhook-secret whsec_test
 * and prints the environment the app needs to talk to it.
 */
import { parseArgs } from "node:util";
import { startStripeStandin } from "./standin.ts";

const USAGE = `Usage: tsx packages/stripe-standin/src/cli.ts [options]
  --port <n>             port to listen on (default 12111; 0 picks a free one)
  --host <addr>          interface to listen on (default 127.0.0.1)
  --webhook-url <url>    where to POST events (e.g. http://localhost:3000/api/stripe/webhook)
  --webhook-secret <s>   endpoint signing secret (default whsec_test)
  --secret-key <key>     the only API key accepted (default: any sk_test_… key)
  --public-url <url>     base URL browsers use for the hosted checkout page
  --webhook-mode <m>     immediate (default) or manual (deliver with POST /_standin/deliver-pending)
  --quiet                log only failures
  -h, --help`;

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "12111" },
    host: { type: "string", default: "127.0.0.1" },
    "webhook-url": { type: "string" },
    "webhook-secret": { type: "string", default: "whsec_test" },
    "secret-key": { type: "string" },
    "public-url": { type: "string" },
    "webhook-mode": { type: "string", default: "immediate" },
    quiet: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const port = Number(values.port);
const mode = values["webhook-mode"];
if (!Number.isInteger(port) || port < 0 || port > 65535 || (mode !== "immediate" && mode !== "manual")) {
  console.error(USAGE);
  process.exit(2);
}

const standin = await startStripeStandin({
  port,
  host: values.host,
  webhookUrl: values["webhook-url"],
  webhookSecret: values["webhook-secret"] ?? "whsec_test",
  secretKey: values["secret-key"],
  publicUrl: values["public-url"],
  webhookMode: mode,
  verbose: !values.quiet,
  log: (message) => console.log(`[stripe-standin] ${message}`),
});

console.log(`Stripe stand-in listening on ${standin.url}`);
console.log(
  values["webhook-url"]
    ? `Webhooks (${mode}) → ${values["webhook-url"]}`
    : "No --webhook-url: events are recorded but not delivered",
);
console.log("Set these for the app:");
for (const [name, value] of Object.entries(standin.env)) console.log(`  ${name}=${value}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void standin.stop().then(() => process.exit(0));
  });
}
