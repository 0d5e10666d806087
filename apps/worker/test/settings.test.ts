import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readWorkerSettings, WorkerSettingsError } from "../src/settings.ts";

describe("worker settings from the environment", () => {
  it("defaults: 60 s lease and visibility, heartbeat a third of it, 30 s grace, metrics on 9464, DLQ sweep every 30 s, housekeeping every 10 min", () => {
    assert.deepEqual(readWorkerSettings({}), {
      leaseSeconds: 60,
      visibilitySeconds: 60,
      heartbeatSeconds: 20,
      graceSeconds: 30,
      metricsPort: 9464,
      dlqSweepSeconds: 30,
      waitTimeSeconds: 20,
      maxAttempts: 5,
      housekeepingSeconds: 600,
    });
  });

  it("reads short test settings; metrics port 0 turns the server off; grace 0 interrupts at once", () => {
    const s = readWorkerSettings({
      LUCID_WORKER_LEASE_SECONDS: "2",
      LUCID_WORKER_VISIBILITY_SECONDS: "3",
      LUCID_WORKER_GRACE_SECONDS: "0",
      LUCID_WORKER_METRICS_PORT: "0",
      LUCID_WORKER_DLQ_SWEEP_SECONDS: "0",
    });
    assert.equal(s.leaseSeconds, 2);
    assert.equal(s.visibilitySeconds, 3);
    assert.equal(s.heartbeatSeconds, 1);
    assert.equal(s.graceSeconds, 0);
    assert.equal(s.metricsPort, undefined);
    assert.equal(s.dlqSweepSeconds, 0);
  });

  it("refuses a bad value, naming the variable", () => {
    assert.throws(() => readWorkerSettings({ LUCID_WORKER_GRACE_SECONDS: "soon" }), (err: Error) => err instanceof WorkerSettingsError && /LUCID_WORKER_GRACE_SECONDS/.test(err.message));
    assert.throws(() => readWorkerSettings({ LUCID_WORKER_LEASE_SECONDS: "0" }), /LUCID_WORKER_LEASE_SECONDS/);
    assert.throws(() => readWorkerSettings({ LUCID_WORKER_VISIBILITY_SECONDS: "10", LUCID_WORKER_HEARTBEAT_SECONDS: "10" }), /must be less than LUCID_WORKER_VISIBILITY_SECONDS/);
  });
});
