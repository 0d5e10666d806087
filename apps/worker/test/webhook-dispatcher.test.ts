import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { Webhook } from "standardwebhooks";
import { WebhookEventPayload } from "@lucid/contracts";
import { createWebhookEndpoint, listWebhookAttempts, signUp, submitGeneration, workspaceWebhookSecret } from "@lucid/core";
import { DiffusionEngine, ensureFixtureModel } from "@lucid/diffusion";
import { createSqsClient } from "@lucid/queue";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";
import { newWorkerId } from "../src/process-job.ts";
import { startWorker, type RunningWorker } from "../src/worker.ts";
import { waitFor } from "./helpers.ts";

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
}

describe("webhook dispatcher in the worker: signed deliveries of a real job", () => {
  let t: TestPlatform;
  let engine: DiffusionEngine;
  let worker: RunningWorker | undefined;
  let receiver: Server;
  let origin = "";
  const received: Received[] = [];
  // The receiver fails the first delivery of generation.succeeded to /endpoint, to see the retry.
  let failedOnce = false;

  before(async () => {
    t = await startTestPlatform({ LUCID_WEBHOOK_ALLOW_LOOPBACK: "true" });
    await ensureFixtureModel(t.config.model.dir);
    engine = await DiffusionEngine.create({ executionProvider: "cpu" });
    receiver = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        const type = (JSON.parse(body) as { type: string }).type;
        const fail = req.url === "/endpoint" && type === "generation.succeeded" && !failedOnce;
        if (fail) failedOnce = true;
        const answered = fail ? 500 : 204;
        received.push({ path: req.url ?? "", headers: req.headers, body, answered });
        res.writeHead(answered).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    origin = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  });
  after(async () => {
    await worker?.stop(0);
    await engine?.close();
    receiver?.close();
    await t?.stop();
  });

  it("sends started → succeeded signed (Standard Webhooks), retries a 500 with the same webhook-id, records every attempt", async () => {
    const p = t.platform;
    const { workspaceId } = await signUp(p, { email: "hooks@example.com", password: "password123" });
    const { endpoint, secret } = await createWebhookEndpoint(p, workspaceId, undefined, {
      url: `${origin}/endpoint`,
      events: ["generation.started", "generation.succeeded", "generation.failed"],
    });
    const job = await submitGeneration(p, { workspaceId, source: "api" }, { prompt: "a signal fire", width: 64, height: 64, steps: 6, webhook_url: `${origin}/own` });

    worker = await startWorker(
      { platform: p, engine, log: pino({ level: process.env.TEST_LOG_LEVEL ?? "silent" }), workerId: newWorkerId(), modelDir: t.config.model.dir, leaseMs: 30_000, maxAttempts: 3 },
      { sqs: createSqsClient(t.config.aws), queueUrl: t.config.queueUrl, visibilitySeconds: 30, heartbeatSeconds: 5, waitTimeSeconds: 1, webhookPollMs: 100 },
    );
    const toEndpoint = () => received.filter((r) => r.path === "/endpoint");
    // Every delivery of the job's events done and recorded (the endpoint's retry comes after the first backoff step, 5 s).
    // The webhook_url gets started and succeeded, and progress at step 5 unless the job finished before that step's write.
    await waitFor(
      "all deliveries to succeed",
      async () => {
        const deliveries = await p.db.webhookDelivery.findMany({ where: { event: { jobId: job.id } }, select: { status: true, endpointId: true, event: { select: { type: true } } } });
        const done = (endpointId: string | null, type: string) => deliveries.some((d) => d.endpointId === endpointId && d.event.type === type && d.status === "succeeded");
        return deliveries.every((d) => d.status === "succeeded") && done(endpoint.id, "generation.started") && done(endpoint.id, "generation.succeeded") && done(null, "generation.started") && done(null, "generation.succeeded");
      },
      { tries: 1200, everyMs: 50 },
    );

    // Endpoint deliveries verify with the endpoint's secret; webhook_url ones with the workspace's signing secret.
    const verify = (r: Received, key: string) =>
      WebhookEventPayload.parse(new Webhook(key).verify(r.body, r.headers as Record<string, string>));
    // Deliveries are not ordered (started and succeeded may be sent in one pass): order by event, then arrival.
    const rank = (type: string) => (type === "generation.started" ? 0 : 1);
    const endpointEvents = toEndpoint()
      .map((r) => ({ ...verify(r, secret), id: r.headers["webhook-id"], answered: r.answered }))
      .sort((a, b) => rank(a.type) - rank(b.type));
    assert.deepEqual(
      endpointEvents.map((e) => [e.type, e.data.status, e.answered]),
      [
        ["generation.started", "running", 204],
        ["generation.succeeded", "succeeded", 500],
        ["generation.succeeded", "succeeded", 204],
      ],
    );
    assert.ok(endpointEvents.every((e) => e.data.id === job.id));
    assert.equal(endpointEvents[1]!.id, endpointEvents[2]!.id, "the retry carries the same webhook-id");
    assert.notEqual(endpointEvents[0]!.id, endpointEvents[1]!.id);
    assert.match(String(endpointEvents[1]!.id), /^msg_/);
    assert.ok(endpointEvents[0]!.timestamp <= endpointEvents[1]!.timestamp, "started happened before succeeded");
    assert.equal(endpointEvents[2]!.data.images.length, 1);
    assert.throws(() => new Webhook(workspaceWebhookSecret(p, workspaceId)).verify(toEndpoint()[0]!.body, toEndpoint()[0]!.headers as Record<string, string>), "another secret does not verify");

    const own = received.filter((r) => r.path === "/own").map((r) => verify(r, workspaceWebhookSecret(p, workspaceId)));
    assert.deepEqual(own.map((e) => e.type).filter((type) => type !== "generation.progress").sort(), ["generation.started", "generation.succeeded"], "the webhook_url hears every event");
    assert.ok(own.filter((e) => e.type === "generation.progress").every((e) => e.data.progress.step === 5), "progress only at step 5 of 6");

    const attempts = await listWebhookAttempts(p, workspaceId, endpoint.id);
    assert.deepEqual(
      attempts.map((a) => [a.delivery.event.type, a.attempt, a.statusCode, a.error]).sort((a, b) => rank(String(a[0])) - rank(String(b[0])) || Number(a[1]) - Number(b[1])),
      [
        ["generation.started", 1, 204, null],
        ["generation.succeeded", 1, 500, "HTTP 500"],
        ["generation.succeeded", 2, 204, null],
      ],
    );
    assert.ok(attempts.every((a) => a.durationMs >= 0));
    const deliveries = await p.db.webhookDelivery.findMany({ where: { endpointId: endpoint.id } });
    assert.ok(deliveries.every((d) => d.status === "succeeded"));
    assert.equal((await p.db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } })).consecutiveFailures, 0);
  });
});
