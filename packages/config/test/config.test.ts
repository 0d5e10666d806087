import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { ConfigError, loadConfig } from "@lucid/config";

const base = {
  LUCID_DATA_DIR: "/nonexistent-lucid-config-test",
  DATABASE_URL: "postgresql://u:p@127.0.0.1:5432/lucid",
  LUCID_QUEUE_URL: "http://127.0.0.1:4566/000000000000/lucid-jobs",
  LUCID_BUCKET: "lucid-images",
  LUCID_SECRET: "s".repeat(32),
};

const problemsOf = (env: Record<string, string>) => {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail("expected a ConfigError");
};

describe("configuration", () => {
  it("accepts a complete environment and fills defaults", () => {
    const c = loadConfig(base);
    assert.equal(c.port, 3000);
    assert.equal(c.starterCredits, 50);
    assert.equal(c.publicUrl, "http://localhost:3000");
    assert.equal(c.stripe, null);
    assert.equal(c.model.id, "lucid-tiny");
  });

  it("names each bad variable", () => {
    const problems = problemsOf({ ...base, PORT: "eighty", DATABASE_URL: "mysql://x", LUCID_SECRET: "short" });
    assert.equal(problems.length, 3, problems.join("\n"));
    assert.ok(problems.some((p) => p.startsWith("PORT ")));
    assert.ok(problems.some((p) => p.startsWith("DATABASE_URL ") && p.includes("postgresql://")));
    assert.ok(problems.some((p) => p.startsWith("LUCID_SECRET ") && p.includes("32")));
  });

  it("says which endpoint is missing and how to get one", () => {
    const { DATABASE_URL: _omit, ...rest } = base;
    const [problem] = problemsOf(rest);
    assert.match(problem!, /^DATABASE_URL is not set .*npm start/);
  });

  it("wants both Stripe keys or neither, and validates credit packs", () => {
    assert.ok(problemsOf({ ...base, STRIPE_SECRET_KEY: "sk_test_x" })[0]!.includes("STRIPE_WEBHOOK_SECRET"));
    assert.ok(problemsOf({ ...base, LUCID_CREDIT_PACKS: "[{\"id\":\"x\"}]" })[0]!.startsWith("LUCID_CREDIT_PACKS"));
    const c = loadConfig({ ...base, STRIPE_SECRET_KEY: "sk_test_x", STRIPE_WEBHOOK_SECRET: "whsec_x", STRIPE_API_BASE: "http://127.0.0.1:12111" });
    assert.deepEqual(c.stripe, { secretKey: "sk_test_x", webhookSecret: "whsec_x", apiBase: "http://127.0.0.1:12111" });
  });

  it("takes the served model's request defaults from the model registry", async () => {
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const registry = join(mkdtempSync(join(tmpdir(), "lucid-registry-")), "models.json");
    writeFileSync(registry, JSON.stringify([{ id: "sd-turbo", defaultScheduler: "euler_ancestral", steps: 1, guidance: 0, width: 512, height: 512 }]));
    const turbo = loadConfig({ ...base, LUCID_MODEL_REGISTRY: registry, LUCID_MODEL_ID: "sd-turbo" });
    assert.deepEqual(turbo.model.defaults, { steps: 1, guidance: 0, width: 512, height: 512, scheduler: "euler_ancestral" });
    const custom = loadConfig({ ...base, LUCID_MODEL_REGISTRY: registry, LUCID_MODEL_ID: "my-own", LUCID_MODEL_DIR: "/models/mine" });
    assert.deepEqual(custom.model.defaults, { steps: 20, guidance: 7.5, width: 512, height: 512 }, "unlisted models get generic defaults");
    writeFileSync(registry, "{ not json");
    assert.ok(problemsOf({ ...base, LUCID_MODEL_REGISTRY: registry })[0]!.startsWith("LUCID_MODEL_REGISTRY"));
  });
});
