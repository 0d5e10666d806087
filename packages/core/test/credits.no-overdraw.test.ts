import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { AppError, findBalanceMismatches, signUp, submitGeneration } from "@lucid/core";
import { createSqsClient } from "@lucid/queue";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";

describe("credits under concurrent submissions", () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform({ LUCID_STARTER_CREDITS: "7" });
  });
  after(async () => t?.stop());

  it("never overdraws a small balance, however many requests race", async () => {
    const p = t.platform;
    const user = await signUp(p, { email: "racer@example.com", password: "correct horse" });
    const body = { prompt: "a race", width: 64, height: 64, steps: 4 }; // costs 1 credit
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, () => submitGeneration(p, { workspaceId: user.workspaceId, source: "api" }, body)),
    );
    const accepted = results.filter((r) => r.status === "fulfilled");
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    assert.equal(accepted.length, 7, "exactly the balance's worth of jobs is accepted");
    assert.equal(refused.length, 33);
    for (const r of refused) {
      assert.ok(r.reason instanceof AppError, String(r.reason));
      assert.equal(r.reason.code, "insufficient_credits");
    }
    const ws = await p.db.workspace.findUniqueOrThrow({ where: { id: user.workspaceId } });
    assert.equal(ws.creditBalance, 0);
    assert.equal(await p.db.job.count({ where: { workspaceId: user.workspaceId } }), 7, "refused requests create no job");
    assert.deepEqual(await findBalanceMismatches(p.db), []);

    // Every accepted job, and only those, reached the queue.
    const sqs = createSqsClient(t.config.aws);
    const seen = new Set<string>();
    for (let i = 0; i < 10 && seen.size < 7; i++) {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl: t.config.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      for (const m of out.Messages ?? []) seen.add(JSON.parse(m.Body!).jobId);
    }
    assert.deepEqual([...seen].sort(), accepted.map((r) => (r as PromiseFulfilledResult<{ id: string }>).value.id).sort());
  });
});
