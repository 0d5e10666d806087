import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import Stripe from "stripe";

const CLI = fileURLToPath(new URL("../src/cli.ts", import.meta.url));

test("the CLI prints the app's environment and serves the API at STRIPE_API_BASE", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", CLI, "--port", "0", "--webhook-secret", "whsec_cli", "--quiet"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  try {
    let output = "";
    child.stdout.setEncoding("utf8");
    for await (const chunk of child.stdout) {
      output += chunk;
      if (output.includes("STRIPE_WEBHOOK_SECRET=")) break;
    }
    const env = Object.fromEntries([...output.matchAll(/^\s+(STRIPE_\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
    assert.equal(env.STRIPE_WEBHOOK_SECRET, "whsec_cli");
    assert.equal(env.STRIPE_SECRET_KEY, "sk_test_standin");
    const base = new URL(env.STRIPE_API_BASE ?? "");
    const stripe = new Stripe(env.STRIPE_SECRET_KEY ?? "", {
      host: base.hostname,
      port: Number(base.port),
      protocol: base.protocol === "https:" ? "https" : "http",
    });
    const customer = await stripe.customers.create({ email: "dev@example.com" });
    assert.match(customer.id, /^cus_/);
  } finally {
    child.kill("SIGTERM");
    await once(child, "exit");
  }
});
