import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { WebhookEventPayload } from "@lucid/contracts";
import {
  AppError,
  WEBHOOK_DISABLE_AFTER_FAILURES,
  WEBHOOK_RETRY_WINDOW_MS,
  assertWebhookTarget,
  claimDueWebhookDeliveries,
  claimJob,
  completeJob,
  createWebhookEndpoint,
  deliverDueWebhooks,
  failJob,
  isAllowedWebhookAddress,
  listWebhookAttempts,
  nextWebhookAttemptAt,
  pruneWebhookHistory,
  recordProgress,
  requestCancel,
  revealWebhookSecret,
  sendWebhook,
  setWebhookEndpointEnabled,
  signUp,
  submitGeneration,
  webhookRetryDelayMs,
  type Platform,
} from "@lucid/core";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";
import { startMailCatcher } from "./support/mail-catcher.ts";

describe("webhooks: outbox, SSRF guard, retries, endpoint disabling", () => {
  let t: TestPlatform;
  let receiver: Server;
  let receiverUrl = "";
  // What the local receiver answers next (200 unless a test says otherwise).
  let answer = 200;
  let received = 0;
  let users = 0;
  let mail: Awaited<ReturnType<typeof startMailCatcher>>;

  before(async () => {
    mail = await startMailCatcher();
    t = await startTestPlatform({ LUCID_WEBHOOK_ALLOW_LOOPBACK: "true", SMTP_URL: mail.smtpUrl });
    receiver = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        received++;
        res.writeHead(answer).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  });
  after(async () => {
    receiver?.close();
    await t?.stop();
    await mail?.stop();
  });

  const newWorkspace = async () => (await signUp(t.platform, { email: `hooks${++users}@example.com`, password: "password123" })).workspaceId;
  const eventsOf = (jobId: string) => t.platform.db.webhookEvent.findMany({ where: { jobId }, orderBy: { createdAt: "asc" }, include: { deliveries: true } });
  const image = (workspaceId: string, jobId: string) => ({ storageKey: `${workspaceId}/${jobId}/0.png`, width: 64, height: 64, seed: 1, contentType: "image/png" });
  /** The platform as it runs without LUCID_WEBHOOK_ALLOW_LOOPBACK. */
  const strict = (): Platform => ({ ...t.platform, config: { ...t.platform.config, webhooks: { allowedCidrs: [] } } });
  /** Sends whatever earlier tests left due, so a test sees only its own deliveries. */
  const drain = async () => {
    while ((await deliverDueWebhooks(t.platform)) > 0);
  };

  it("records started, progress (every 5 steps) and succeeded with the job transitions, for subscribed endpoints only", async () => {
    const p = t.platform;
    const ws = await newWorkspace();
    const all = await createWebhookEndpoint(p, ws, undefined, { url: receiverUrl });
    const onlyDone = await createWebhookEndpoint(p, ws, undefined, { url: receiverUrl, events: ["generation.succeeded"] });
    assert.match(all.secret, /^whsec_[A-Za-z0-9+/]{32}$/);
    assert.deepEqual(all.endpoint.events.length, 5, "all five event types by default");
    const other = await createWebhookEndpoint(p, await newWorkspace(), undefined, { url: receiverUrl });

    const job = await submitGeneration(p, { workspaceId: ws, source: "api" }, { prompt: "a heron", width: 64, height: 64, steps: 12 });
    assert.deepEqual(await eventsOf(job.id), [], "queued is not an event");
    assert.ok((await claimJob(p, job.id, "w1", 60_000)).claimed);
    for (let step = 1; step <= 12; step++) assert.ok(await recordProgress(p, job.id, "w1", step, 12, 60_000));
    assert.equal(await completeJob(p, job.id, "w1", [image(ws, job.id)]), true);
    assert.equal(await completeJob(p, job.id, "w1", [image(ws, job.id)]), false);
    assert.equal((await claimJob(p, job.id, "w2", 60_000)).claimed, false);

    const events = await eventsOf(job.id);
    assert.deepEqual(
      events.map((e) => e.type),
      ["generation.started", "generation.progress", "generation.progress", "generation.succeeded"],
      "progress at steps 5 and 10; a refused completion or claim records nothing",
    );
    const payloads = events.map((e) => WebhookEventPayload.parse(JSON.parse(e.payload)));
    assert.deepEqual(payloads.map((e) => [e.data.status, e.data.progress.step]), [["running", 0], ["running", 5], ["running", 10], ["succeeded", 12]]);
    const done = payloads[3]!;
    assert.equal(done.data.id, job.id);
    assert.equal(done.data.images.length, 1);
    assert.match(done.data.images[0]!.url, /X-Amz-Signature=/, "a private image is a signed URL");
    assert.deepEqual(events.map((e) => e.deliveries.map((d) => d.endpointId).sort()), [
      [all.endpoint.id],
      [all.endpoint.id],
      [all.endpoint.id],
      [all.endpoint.id, onlyDone.endpoint.id].sort(),
    ]);
    assert.ok(events.every((e) => e.deliveries.every((d) => d.status === "pending" && d.url === receiverUrl)));
    const otherDeliveries = await p.db.webhookDelivery.count({ where: { endpointId: other.endpoint.id } });
    assert.equal(otherDeliveries, 0, "another workspace's endpoint hears nothing");
  });

  it("records failed and canceled, and sends a generation's own webhook_url every event", async () => {
    const p = t.platform;
    const ws = await newWorkspace();
    const failing = await submitGeneration(p, { workspaceId: ws, source: "api" }, { prompt: "doomed", webhook_url: receiverUrl });
    assert.equal((failing.request as { webhook_url?: string }).webhook_url, receiverUrl);
    assert.ok((await claimJob(p, failing.id, "w1", 60_000)).claimed);
    assert.equal(await failJob(p, failing.id, { code: "engine_error", message: "boom" }, { workerId: "w1" }), true);
    const failedEvents = await eventsOf(failing.id);
    assert.deepEqual(failedEvents.map((e) => e.type), ["generation.started", "generation.failed"]);
    assert.ok(failedEvents.every((e) => e.deliveries.length === 1 && e.deliveries[0]!.endpointId === null && e.deliveries[0]!.url === receiverUrl));
    assert.equal(WebhookEventPayload.parse(JSON.parse(failedEvents[1]!.payload)).data.error?.code, "engine_error");

    await createWebhookEndpoint(p, ws, undefined, { url: receiverUrl, events: ["generation.canceled"] });
    const canceled = await submitGeneration(p, { workspaceId: ws, source: "api" }, { prompt: "never mind" });
    assert.equal(await requestCancel(p, ws, canceled.id), "canceled");
    assert.deepEqual((await eventsOf(canceled.id)).map((e) => e.type), ["generation.canceled"]);
  });

  it("refuses private, loopback, link-local and unique-local targets, at creation and at submission", async () => {
    const refused = ["10.0.0.1", "172.16.3.4", "192.168.1.1", "127.0.0.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "::1", "fd00::1", "fe80::1", "::ffff:127.0.0.1", "224.0.0.1"];
    for (const a of refused) assert.equal(isAllowedWebhookAddress(a), false, a);
    for (const a of ["93.184.215.14", "2606:4700:4700::1111"]) assert.equal(isAllowedWebhookAddress(a), true, a);
    assert.equal(isAllowedWebhookAddress("127.0.0.1", ["127.0.0.0/8", "::1/128"]), true, "the loopback allow-list");
    assert.equal(isAllowedWebhookAddress("::1", ["127.0.0.0/8", "::1/128"]), true);
    assert.equal(isAllowedWebhookAddress("10.1.2.3", ["127.0.0.0/8"]), false, "the allow-list opens only its ranges");
    assert.equal(isAllowedWebhookAddress("10.1.2.3", ["10.0.0.0/8"]), true);

    const p = strict();
    for (const url of ["http://127.0.0.1:8080/hook", "http://localhost/hook", "http://169.254.169.254/latest/meta-data", "http://[::1]/x", "http://[fd12::1]/x", "http://[fe80::1]/x", "http://10.0.0.7/x"]) {
      await assert.rejects(assertWebhookTarget(p, url, "url"), (err: AppError) => err.code === "validation_failed" && err.fields?.[0]?.field === "url", url);
    }
    await assert.doesNotReject(assertWebhookTarget(p, "https://93.184.215.14/hook", "url"));
    await assert.rejects(assertWebhookTarget(p, "http://user:pw@93.184.215.14/", "url"), /credentials/);

    const ws = await newWorkspace();
    await assert.rejects(createWebhookEndpoint(p, ws, undefined, { url: "http://127.0.0.1:9/hook" }), (err: AppError) => {
      assert.equal(err.status, 400);
      assert.deepEqual(err.fields?.map((f) => f.field), ["url"]);
      assert.match(err.message, /private, loopback or link-local/);
      return true;
    });
    await assert.rejects(createWebhookEndpoint(p, ws, undefined, { url: "ftp://example.com/" }), (err: AppError) => err.fields?.[0]?.field === "url");
    await assert.rejects(
      submitGeneration(p, { workspaceId: ws, source: "api" }, { prompt: "x", webhook_url: "http://169.254.169.254/" }),
      (err: AppError) => err.code === "validation_failed" && err.fields?.[0]?.field === "webhook_url",
    );
    assert.equal(await t.platform.db.job.count({ where: { workspaceId: ws } }), 0, "a refused webhook_url charges nothing");
    // With LUCID_WEBHOOK_ALLOW_LOOPBACK=true (this test platform) loopback is accepted, other private ranges are not.
    await assert.doesNotReject(createWebhookEndpoint(t.platform, ws, undefined, { url: "http://127.0.0.1:9/hook" }));
    await assert.rejects(createWebhookEndpoint(t.platform, ws, undefined, { url: "http://192.168.0.10/hook" }));
  });

  it("a delivery whose host no longer passes the check is refused at send time", async () => {
    await drain();
    const ws = await newWorkspace();
    const job = await submitGeneration(t.platform, { workspaceId: ws, source: "api" }, { prompt: "rebind", webhook_url: receiverUrl });
    const before = received;
    // The same delivery under the strict platform: loopback is no longer allowed when it is sent.
    await requestCancel(t.platform, ws, job.id);
    assert.equal(await deliverDueWebhooks(strict()), 1);
    const [delivery] = await t.platform.db.webhookDelivery.findMany({ where: { event: { jobId: job.id } }, include: { attempts: true } });
    assert.equal(received, before, "nothing reached the receiver");
    assert.equal(delivery!.status, "pending", "retried later");
    assert.match(delivery!.attempts[0]!.error ?? "", /refused target: .*private, loopback or link-local/);
  });

  it("a receiver that does not answer within the timeout is a failed attempt; redirects are not followed", async () => {
    const silent = createServer(() => undefined); // never answers
    const redirecting = createServer((_req, res) => res.writeHead(302, { location: receiverUrl }).end());
    await Promise.all([silent, redirecting].map((s) => new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve))));
    const urlOf = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}/`;
    const target = (url: string) => ({ url, secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", messageId: "msg_test", body: "{}" });
    try {
      const timedOut = await sendWebhook(target(urlOf(silent)), { allowedCidrs: ["127.0.0.0/8"], timeoutMs: 300 });
      assert.deepEqual([timedOut.statusCode, timedOut.error], [undefined, "no answer within 300 ms"]);
      const before = received;
      const redirected = await sendWebhook(target(urlOf(redirecting)), { allowedCidrs: ["127.0.0.0/8"] });
      assert.deepEqual([redirected.statusCode, redirected.error, received], [302, "HTTP 302", before]);
    } finally {
      silent.closeAllConnections();
      silent.close();
      redirecting.close();
    }
  });

  it("retries with exponential backoff for up to 24 hours", () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 20].map(webhookRetryDelayMs), [5e3, 30e3, 120e3, 600e3, 1800e3, 3600e3, 7200e3, 14400e3, 14400e3, 14400e3]);
    // Play the whole schedule of an always-failing delivery.
    const created = new Date("2026-01-01T00:00:00Z");
    let now = created;
    const offsets: number[] = [0];
    for (let failed = 1; ; failed++) {
      const next = nextWebhookAttemptAt(created, failed, now);
      if (!next) break;
      now = next;
      offsets.push((now.getTime() - created.getTime()) / 1000);
    }
    assert.deepEqual(offsets.slice(0, 8), [0, 5, 35, 155, 755, 2555, 6155, 13355]);
    assert.ok(offsets.at(-1)! * 1000 <= WEBHOOK_RETRY_WINDOW_MS && offsets.at(-1)! * 1000 + 14400e3 > WEBHOOK_RETRY_WINDOW_MS, "the last try is inside the 24 h window");
    assert.equal(offsets.length, 13, "13 attempts in 24 hours");
  });

  it("disables an endpoint after 20 failed deliveries in a row; a success resets the count", async () => {
    const p = t.platform;
    const ws = await newWorkspace();
    const { endpoint } = await createWebhookEndpoint(p, ws, undefined, { url: receiverUrl, events: ["generation.canceled"] });
    const endpointRow = () => p.db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id } });
    const cancelOne = async () => {
      const job = await submitGeneration(p, { workspaceId: ws, source: "api" }, { prompt: "cancel me", width: 64, height: 64, steps: 1 });
      await requestCancel(p, ws, job.id);
    };
    // Each pass makes every pending delivery due now instead of waiting out the backoff.
    const pass = async () => {
      await p.db.webhookDelivery.updateMany({ where: { endpointId: endpoint.id, status: "pending" }, data: { nextAttemptAt: new Date(0) } });
      await deliverDueWebhooks(p);
    };
    answer = 500;
    try {
      await cancelOne();
      for (let i = 0; i < 19; i++) await pass();
      assert.equal((await endpointRow()).consecutiveFailures, 19);
      answer = 200;
      await pass();
      assert.deepEqual([(await endpointRow()).consecutiveFailures, (await endpointRow()).enabled], [0, true], "a success resets the count");
      answer = 500;
      await cancelOne();
      for (let i = 0; i < WEBHOOK_DISABLE_AFTER_FAILURES - 1; i++) await pass();
      assert.equal((await endpointRow()).enabled, true, "19 in a row is not enough");
      await pass();
    } finally {
      answer = 200;
    }
    const disabled = await endpointRow();
    assert.equal(disabled.enabled, false);
    assert.match(disabled.disabledReason ?? "", /20 failed deliveries in a row \(last: HTTP 500\)/);
    // The owner is told by email, not only by the banner in settings.
    const owner = await p.db.membership.findFirstOrThrow({ where: { workspaceId: ws, role: "owner" }, include: { user: true } });
    let told;
    // SMTP hands the message over before MailDev has stored it: wait for it, boundedly.
    for (let i = 0; i < 50 && !told; i++) {
      told = (await mail.list(owner.user.email)).find((m) => m.subject === "Lucid: a webhook endpoint was disabled");
      if (!told) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(told, "the owner got an email");
    assert.match(told.text, /hook was disabled[\s\S]*20 failed deliveries in a row/);
    const attempts = await listWebhookAttempts(p, ws, endpoint.id);
    assert.equal(attempts.length, 40);
    assert.deepEqual(attempts.slice(0, 2).map((a) => [a.statusCode, a.error, a.attempt]), [[500, "HTTP 500", 20], [500, "HTTP 500", 19]]);
    assert.ok(attempts.every((a) => a.durationMs >= 0 && a.delivery.event.type === "generation.canceled"));
    // A disabled endpoint receives nothing new; enabling it again clears the reason.
    await cancelOne();
    assert.equal(await p.db.webhookDelivery.count({ where: { endpointId: endpoint.id, status: "pending" } }), 1, "the old delivery is still pending");
    await pass();
    assert.equal(await p.db.webhookDelivery.count({ where: { endpointId: endpoint.id, status: "pending" } }), 0, "it ends as failed, unsent");
    assert.equal((await listWebhookAttempts(p, ws, endpoint.id)).length, 40);
    await setWebhookEndpointEnabled(p, ws, endpoint.id, true);
    assert.deepEqual(
      await p.db.webhookEndpoint.findUniqueOrThrow({ where: { id: endpoint.id }, select: { enabled: true, disabledReason: true, consecutiveFailures: true } }),
      { enabled: true, disabledReason: null, consecutiveFailures: 0 },
    );
  });

  it("concurrent dispatchers never take the same delivery (FOR UPDATE SKIP LOCKED)", async () => {
    const p = t.platform;
    await drain();
    const ws = await newWorkspace();
    await createWebhookEndpoint(p, ws, undefined, { url: receiverUrl, events: ["generation.canceled"] });
    for (let i = 0; i < 12; i++) {
      const job = await submitGeneration(p, { workspaceId: ws, source: "api" }, { prompt: `many ${i}`, width: 64, height: 64, steps: 1 });
      await requestCancel(p, ws, job.id);
    }
    const taken = await Promise.all([0, 1, 2, 3].map(() => claimDueWebhookDeliveries(p, 5, 60_000)));
    const ids = taken.flat().map((d) => d.id);
    assert.equal(new Set(ids).size, ids.length, "no delivery was taken twice");
    assert.equal(ids.length, 12, "together they took all of them");
    assert.deepEqual(await claimDueWebhookDeliveries(p, 5, 60_000), [], "taken deliveries are leased, not due");
  });

  it("keeps finished events 30 days; pending ones stay", async () => {
    const p = t.platform;
    await drain();
    const ws = await newWorkspace();
    await createWebhookEndpoint(p, ws, undefined, { url: receiverUrl, events: ["generation.canceled"] });
    const jobs = [];
    for (const prompt of ["old and done", "old but pending", "recent"]) {
      const job = await submitGeneration(p, { workspaceId: ws, source: "api" }, { prompt, width: 64, height: 64, steps: 1 });
      await requestCancel(p, ws, job.id);
      jobs.push(job.id);
    }
    await drain();
    const [done, pending, recent] = jobs as [string, string, string];
    const aged = new Date(Date.now() - 31 * 24 * 3600_000);
    await p.db.webhookEvent.updateMany({ where: { jobId: { in: [done, pending] } }, data: { createdAt: aged } });
    await p.db.webhookDelivery.updateMany({ where: { event: { jobId: pending } }, data: { status: "pending", nextAttemptAt: new Date(Date.now() + 3600_000) } });
    assert.equal(await p.db.webhookAttempt.count({ where: { delivery: { event: { jobId: done } } } }), 1);

    assert.equal(await pruneWebhookHistory(p), 1);
    assert.deepEqual((await p.db.webhookEvent.findMany({ where: { jobId: { in: jobs } }, select: { jobId: true } })).map((e) => e.jobId).sort(), [pending, recent].sort());
    assert.equal(await p.db.webhookAttempt.count({ where: { delivery: { event: { jobId: done } } } }), 0, "its attempts went with it");
  });

  it("shows an endpoint's secret again to owners only", async () => {
    const p = t.platform;
    const ws = await newWorkspace();
    const { endpoint, secret } = await createWebhookEndpoint(p, ws, undefined, { url: receiverUrl });
    assert.equal(await revealWebhookSecret(p, { workspaceId: ws, role: "owner" }, endpoint.id), secret);
    await assert.rejects(revealWebhookSecret(p, { workspaceId: ws, role: "member" }, endpoint.id), (err: AppError) => err.code === "forbidden");
    await assert.rejects(revealWebhookSecret(p, { workspaceId: await newWorkspace(), role: "owner" }, endpoint.id), (err: AppError) => err.code === "not_found");
  });
});
