import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { JobMessage } from "@lucid/contracts";
import { startAws } from "@lucid/local-stack";
import { createSqsClient, SqsJobQueue } from "../src/index.ts";

const message = (): JobMessage => ({
  version: 1,
  jobId: randomUUID(),
  workspaceId: randomUUID(),
  request: { prompt: "a lighthouse", n: 1, width: 64, height: 64, steps: 2, guidance: 7, seed: 1, model: "lucid-tiny" } as JobMessage["request"],
  enqueuedAt: new Date().toISOString(),
});

describe("SqsJobQueue.send against the SQS emulator", () => {
  let aws: Awaited<ReturnType<typeof startAws>>;
  before(async () => {
    aws = await startAws({ visibilityTimeoutSeconds: 30 });
  });
  after(async () => aws?.stop());

  it("concurrent sends share SendMessageBatch calls, and every message arrives exactly once", async () => {
    const client = createSqsClient(aws);
    let calls = 0;
    client.middlewareStack.add((next) => (args) => (calls++, next(args)), { step: "initialize", name: "countCalls" });
    const queue = new SqsJobQueue(client, aws.queueUrl);
    const sent = Array.from({ length: 25 }, message);
    await Promise.all(sent.map((m) => queue.send(m)));
    assert.ok(calls <= 4, `25 messages in ${calls} calls (a lone first send, then batches of up to 10)`);

    const received: string[] = [];
    for (let i = 0; i < 10 && received.length < sent.length; i++) {
      const out = await client.send(new ReceiveMessageCommand({ QueueUrl: aws.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      for (const m of out.Messages ?? []) received.push((JSON.parse(m.Body!) as JobMessage).jobId);
    }
    assert.deepEqual(received.sort(), sent.map((m) => m.jobId).sort());
  });

  it("a send SQS does not accept rejects, with the reason, for every message of its batch", async () => {
    const queue = new SqsJobQueue(createSqsClient(aws), `${aws.endpoint}/000000000000/no-such-queue`);
    const results = await Promise.allSettled(Array.from({ length: 3 }, () => queue.send(message())));
    assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected", "rejected"]);
  });
});
