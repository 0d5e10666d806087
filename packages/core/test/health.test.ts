import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { checkHealth, createPlatform } from "@lucid/core";
import { loadConfig } from "@lucid/config";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";

describe("health report", () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform();
  });
  after(async () => t?.stop());

  it("is ok when database, queue and storage answer", async () => {
    assert.deepEqual(await checkHealth(t.platform), { ok: true, database: "ok", queue: "ok", storage: "ok" });
  });

  it("names the broken part", async () => {
    const broken = createPlatform(loadConfig({ ...t.env, LUCID_BUCKET: "no-such-bucket" }));
    try {
      const report = await checkHealth(broken);
      assert.equal(report.ok, false);
      assert.equal(report.database, "ok");
      assert.equal(report.queue, "ok");
      assert.match(report.storage, /^error: /);
    } finally {
      await broken.db.$disconnect();
    }
  });
});
