import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  AppError,
  IDEMPOTENCY_LOCK_MS,
  IDEMPOTENCY_TTL_MS,
  LimitExceededError,
  authenticateApiKey,
  beginIdempotentRequest,
  claimJob,
  completeJob,
  closeRateLimiter,
  completeIdempotentRequest,
  consumeRequest,
  createApiKey,
  listApiKeys,
  releaseIdempotencyKey,
  requestCancel,
  requestFingerprint,
  requireScope,
  revokeApiKey,
  signUp,
  submitGeneration,
  type Platform,
} from "@lucid/core";
import { MAX_ACTIVE_API_KEYS } from "@lucid/contracts";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";

const is = (code: string) => (e: unknown) => e instanceof AppError && e.code === code;
let users = 0;
const newUser = (p: Platform) => signUp(p, { email: `dev${users++}-${Date.now()}@example.com`, password: "password123" });
const small = { prompt: "a small teapot", width: 64, height: 64, steps: 2 }; // costs 1 credit

describe("developer API: keys, caps, limits and idempotency", () => {
  let t: TestPlatform;
  before(async () => {
    // A plan with tiny limits so the tests reach them quickly.
    t = await startTestPlatform({ LUCID_PLANS: JSON.stringify({ tiny: { requestsPerMinute: 5, maxInFlightJobs: 2 } }) });
  });
  after(async () => {
    await closeRateLimiter(t.platform);
    await t?.stop();
  });

  it("verification names why a key is refused: unknown, revoked, expired; a missing scope is a 403 naming it", async () => {
    const p = t.platform;
    const u = await newUser(p);
    const k = await createApiKey(p, u.workspaceId, u.id, { name: "reader", scopes: ["generations:read"] });
    const ok = await authenticateApiKey(p, k.key);
    assert.deepEqual(ok.scopes, ["generations:read"]);
    assert.equal(ok.plan, "free");
    await assert.rejects(authenticateApiKey(p, `${k.key}x`), is("invalid_api_key"));
    await assert.rejects(authenticateApiKey(p, "not-a-key"), is("invalid_api_key"));
    const scopeError = (() => {
      try {
        requireScope(ok.scopes, "generations:write");
      } catch (e) {
        return e as AppError;
      }
    })();
    assert.equal(scopeError?.code, "insufficient_scope");
    assert.equal(scopeError?.status, 403);
    assert.match(scopeError!.message, /generations:write/);

    const all = await createApiKey(p, u.workspaceId, u.id, { name: "everything" });
    assert.deepEqual((await authenticateApiKey(p, all.key)).scopes, ["generations:write", "generations:read", "images:read"], "all scopes by default");

    await revokeApiKey(p, u.workspaceId, k.id);
    const revoked = await authenticateApiKey(p, k.key).catch((e) => e);
    assert.equal(revoked.code, "api_key_revoked");
    assert.equal(revoked.status, 401);

    const soon = await createApiKey(p, u.workspaceId, u.id, { name: "short-lived", expiresAt: new Date(Date.now() + 60_000) });
    assert.equal((await authenticateApiKey(p, soon.key)).apiKeyId, soon.id);
    await p.db.apiKey.update({ where: { id: soon.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const expired = await authenticateApiKey(p, soon.key).catch((e) => e);
    assert.equal(expired.code, "api_key_expired");
    assert.equal(expired.status, 401);

    await assert.rejects(createApiKey(p, u.workspaceId, u.id, { name: "x", scopes: ["admin"] }), is("validation_failed"));
    await assert.rejects(createApiKey(p, u.workspaceId, u.id, { name: "x", scopes: [] }), is("validation_failed"));
    await assert.rejects(createApiKey(p, u.workspaceId, u.id, { name: "x", expiresAt: new Date(Date.now() - 1000) }), is("validation_failed"));
    const listed = await listApiKeys(p, u.workspaceId);
    assert.deepEqual(listed.find((l) => l.id === soon.id)?.expired, true);
    assert.deepEqual(listed.find((l) => l.id === k.id)?.scopes, ["generations:read"]);
  });

  it("a key's last use is stamped coarsely: concurrent requests all pass and the stamp is recent", async () => {
    const p = t.platform;
    const u = await newUser(p);
    const k = await createApiKey(p, u.workspaceId, u.id, { name: "busy" });
    assert.equal((await listApiKeys(p, u.workspaceId)).find((l) => l.id === k.id)?.lastUsedAt, null);
    const before = Date.now();
    const all = await Promise.all(Array.from({ length: 20 }, () => authenticateApiKey(p, k.key)));
    assert.ok(all.every((a) => a.apiKeyId === k.id && a.workspaceId === u.workspaceId && a.plan === "free" && a.rateLimitPerMinute === null));
    const stamped = (await listApiKeys(p, u.workspaceId)).find((l) => l.id === k.id)?.lastUsedAt;
    assert.ok(stamped && stamped.getTime() >= before - 1000 && stamped.getTime() <= Date.now() + 1000, String(stamped));
  });

  it(`a workspace holds at most ${MAX_ACTIVE_API_KEYS} active keys, even when created concurrently; revoking one frees a place`, async () => {
    const p = t.platform;
    const u = await newUser(p);
    for (let i = 0; i < MAX_ACTIVE_API_KEYS - 5; i++) await createApiKey(p, u.workspaceId, u.id, { name: `k${i}` });
    const burst = await Promise.allSettled(Array.from({ length: 10 }, (_, i) => createApiKey(p, u.workspaceId, u.id, { name: `burst${i}` })));
    assert.equal(burst.filter((r) => r.status === "fulfilled").length, 5);
    for (const r of burst) if (r.status === "rejected") assert.ok(is("api_key_limit_reached")(r.reason));
    assert.equal(await p.db.apiKey.count({ where: { workspaceId: u.workspaceId, revokedAt: null } }), MAX_ACTIVE_API_KEYS);
    const limitError = await createApiKey(p, u.workspaceId, u.id, { name: "one too many" }).catch((e) => e);
    assert.equal(limitError.code, "api_key_limit_reached");
    assert.equal(limitError.status, 409);
    const oldest = await p.db.apiKey.findFirstOrThrow({ where: { workspaceId: u.workspaceId }, orderBy: { createdAt: "asc" } });
    await revokeApiKey(p, u.workspaceId, oldest.id);
    await createApiKey(p, u.workspaceId, u.id, { name: "after a revoke" });
  });

  it("a key's monthly credit cap refuses the job that would pass it (403); released credits count no more", async () => {
    const p = t.platform;
    const u = await newUser(p);
    const k = await createApiKey(p, u.workspaceId, u.id, { name: "capped", monthlyCreditCap: 2 });
    const who = { workspaceId: u.workspaceId, apiKeyId: k.id, source: "api" as const };
    const first = await submitGeneration(p, who, small);
    await submitGeneration(p, who, small);
    const capped = await submitGeneration(p, who, small).catch((e) => e);
    assert.equal(capped.code, "key_credit_cap_exceeded");
    assert.equal(capped.status, 403);
    assert.equal(await p.db.job.count({ where: { apiKeyId: k.id } }), 2, "the refused job was not recorded");
    assert.equal((await p.db.workspace.findUniqueOrThrow({ where: { id: u.workspaceId } })).creditBalance, 48, "nothing reserved for it");
    // The session and other keys are not bound by this key's cap.
    await submitGeneration(p, { workspaceId: u.workspaceId, source: "web" }, small);
    assert.equal((await listApiKeys(p, u.workspaceId)).find((l) => l.id === k.id)?.creditsUsedThisMonth, 2);
    // A canceled job gives its credits back to the cap too.
    await requestCancel(p, u.workspaceId, first.id);
    await submitGeneration(p, who, small);
  });

  it("a workspace's plan caps jobs queued or running at once, under concurrent submits too (429 with Retry-After)", async () => {
    const p = t.platform;
    const u = await newUser(p);
    await p.db.workspace.update({ where: { id: u.workspaceId }, data: { plan: "tiny" } }); // 2 in flight
    const who = { workspaceId: u.workspaceId, source: "web" as const };
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => submitGeneration(p, who, small)));
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 2);
    for (const r of results) {
      if (r.status === "fulfilled") continue;
      assert.ok(r.reason instanceof LimitExceededError, String(r.reason));
      assert.equal(r.reason.code, "too_many_in_flight_jobs");
      assert.equal(r.reason.status, 429);
      assert.ok(r.reason.retryAfterSeconds >= 1);
    }
    assert.equal((await p.db.workspace.findUniqueOrThrow({ where: { id: u.workspaceId } })).creditBalance, 48, "refused jobs reserved nothing");
    const [first, second] = await p.db.job.findMany({ where: { workspaceId: u.workspaceId }, orderBy: { createdAt: "asc" } });
    await requestCancel(p, u.workspaceId, first!.id);
    const third = await submitGeneration(p, who, small); // a place came free
    // A running job still counts; one that succeeds frees its place.
    assert.equal((await claimJob(p, second!.id, "w1", 60_000)).claimed, true);
    await assert.rejects(submitGeneration(p, who, small), is("too_many_in_flight_jobs"));
    await completeJob(p, second!.id, "w1", [{ storageKey: `k/${second!.id}.png`, width: 64, height: 64, seed: 1, contentType: "image/png" }]);
    await submitGeneration(p, who, small);
    const ws = await p.db.workspace.findUniqueOrThrow({ where: { id: u.workspaceId } });
    assert.equal(ws.jobsInFlight, await p.db.job.count({ where: { workspaceId: u.workspaceId, status: { in: ["queued", "running"] } } }));
    assert.equal(ws.jobsInFlight, 2);
    assert.ok(third.id);
  });

  it("counts requests per key in a sliding window across the minute boundary, and refuses past the limit with a retry time", async () => {
    const p = t.platform;
    const subject = `test-${Date.now()}`;
    const minute = (Math.floor(Date.now() / 60_000) + 10) * 60_000; // a window of our own
    const remaining: number[] = [];
    for (let i = 0; i < 5; i++) remaining.push((await consumeRequest(p, subject, 5, minute + 59_000)).remaining);
    assert.deepEqual(remaining, [4, 3, 2, 1, 0]);
    const refused = await consumeRequest(p, subject, 5, minute + 59_500).catch((e) => e);
    assert.ok(refused instanceof LimitExceededError);
    assert.equal(refused.code, "rate_limited");
    assert.equal(refused.rate?.remaining, 0);
    // One second into the next minute the last minute still weighs 59/60: a fixed window would let a burst through here.
    await assert.rejects(consumeRequest(p, subject, 5, minute + 61_000), (e) => e instanceof LimitExceededError && e.retryAfterSeconds >= 1);
    // Halfway through, half of it has slid out.
    const later = await consumeRequest(p, subject, 5, minute + 90_000);
    assert.equal(later.limit, 5);
    assert.equal(later.remaining, 1); // 5 × 0.5 + 1 = 3.5 used
    // Another key has its own count.
    assert.equal((await consumeRequest(p, `${subject}-other`, 5, minute + 59_000)).remaining, 4);
  });

  it("idempotency: the first response replays, other parameters are refused (422), a request in flight is a 409, a failure stores nothing", async () => {
    const p = t.platform;
    const u = await newUser(p);
    const fp = requestFingerprint("POST", "/api/v1/generations", JSON.stringify(small));
    const first = await beginIdempotentRequest(p, u.workspaceId, "key-1", fp);
    assert.equal(first.kind, "started");
    await assert.rejects(beginIdempotentRequest(p, u.workspaceId, "key-1", fp), is("idempotency_request_in_progress"));
    if (first.kind !== "started") return;
    await completeIdempotentRequest(p, first.recordId, { status: 202, body: '{"id":"x"}', headers: { "content-type": "application/json" } });
    assert.deepEqual(await beginIdempotentRequest(p, u.workspaceId, "key-1", fp), {
      kind: "replay",
      response: { status: 202, body: '{"id":"x"}', headers: { "content-type": "application/json" } },
    });
    const other = requestFingerprint("POST", "/api/v1/generations", JSON.stringify({ ...small, seed: 1 }));
    const reused = await beginIdempotentRequest(p, u.workspaceId, "key-1", other).catch((e) => e);
    assert.equal(reused.code, "idempotency_key_reused");
    assert.equal(reused.status, 422);
    // Keys are per workspace.
    const stranger = await newUser(p);
    assert.equal((await beginIdempotentRequest(p, stranger.workspaceId, "key-1", other)).kind, "started");
    // A failure releases the key: a corrected retry with the same key runs.
    const failed = await beginIdempotentRequest(p, u.workspaceId, "key-2", fp);
    assert.equal(failed.kind, "started");
    if (failed.kind === "started") await releaseIdempotencyKey(p, failed.recordId);
    assert.equal((await beginIdempotentRequest(p, u.workspaceId, "key-2", other)).kind, "started");
    // After 24 hours the key is free again.
    await p.db.idempotencyKey.updateMany({ where: { workspaceId: u.workspaceId, key: "key-1" }, data: { expiresAt: new Date(Date.now() - 1) } });
    assert.equal((await beginIdempotentRequest(p, u.workspaceId, "key-1", other)).kind, "started");
    await assert.rejects(beginIdempotentRequest(p, u.workspaceId, "", fp), is("validation_failed"));
  });

  it("idempotency: a key's record holds UTC times (taken now, locked 5 minutes, kept 24 hours from completion)", async () => {
    const p = t.platform;
    const u = await newUser(p);
    const near = (d: Date | null | undefined, expected: number) => assert.ok(d && Math.abs(d.getTime() - expected) < 60_000, `${d?.toISOString()} vs ${new Date(expected).toISOString()}`);
    const start = await beginIdempotentRequest(p, u.workspaceId, "times", requestFingerprint("POST", "/api/v1/generations", "{}"));
    assert.equal(start.kind, "started");
    if (start.kind !== "started") return;
    const begun = await p.db.idempotencyKey.findUniqueOrThrow({ where: { id: start.recordId } });
    near(begun.createdAt, Date.now());
    near(begun.lockedUntil, Date.now() + IDEMPOTENCY_LOCK_MS);
    near(begun.expiresAt, Date.now() + IDEMPOTENCY_TTL_MS);
    assert.equal(begun.completedAt, null);
    await completeIdempotentRequest(p, start.recordId, { status: 202, body: "{}", headers: { location: "/api/v1/generations/x" } });
    const done = await p.db.idempotencyKey.findUniqueOrThrow({ where: { id: start.recordId } });
    near(done.completedAt, Date.now());
    near(done.expiresAt, Date.now() + IDEMPOTENCY_TTL_MS);
    assert.deepEqual([done.responseStatus, done.responseBody, done.responseHeaders], [202, "{}", { location: "/api/v1/generations/x" }]);
  });

  it("idempotency: 10 concurrent retries with one key create exactly one job; the rest replay it or are told it is in flight", async () => {
    const p = t.platform;
    const u = await newUser(p);
    const body = JSON.stringify({ ...small, seed: 7 });
    const fp = requestFingerprint("POST", "/api/v1/generations", body);
    // What the web layer does around submitGeneration.
    const post = async (input: string) => {
      const start = await beginIdempotentRequest(p, u.workspaceId, "retry-storm", requestFingerprint("POST", "/api/v1/generations", input));
      if (start.kind === "replay") return { replayed: true, ...start.response };
      try {
        const job = await submitGeneration(p, { workspaceId: u.workspaceId, source: "api" }, JSON.parse(input));
        const response = { status: 202, body: JSON.stringify({ id: job.id }), headers: {} };
        await completeIdempotentRequest(p, start.recordId, response);
        return { replayed: false, ...response };
      } catch (err) {
        await releaseIdempotencyKey(p, start.recordId);
        throw err;
      }
    };
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => post(body)));
    const answered = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    for (const r of results) if (r.status === "rejected") assert.ok(is("idempotency_request_in_progress")(r.reason), String(r.reason));
    assert.equal(answered.filter((a) => !a.replayed).length, 1, "exactly one ran");
    assert.equal(new Set(answered.map((a) => a.body)).size, 1, "every answer is the same response");
    assert.equal(await p.db.job.count({ where: { workspaceId: u.workspaceId } }), 1);
    const again = await post(body);
    assert.equal(again.replayed, true);
    assert.equal(again.body, answered[0]!.body);
    assert.equal(fp, requestFingerprint("post", "/api/v1/generations", body));

    // A request that fails validation stores nothing; the corrected retry with the same key creates the job.
    const bad = JSON.stringify({ prompt: "x", steps: 500 });
    const start = await beginIdempotentRequest(p, u.workspaceId, "fix-and-retry", requestFingerprint("POST", "/api/v1/generations", bad));
    assert.equal(start.kind, "started");
    if (start.kind === "started") {
      await assert.rejects(submitGeneration(p, { workspaceId: u.workspaceId, source: "api" }, JSON.parse(bad)), is("validation_failed"));
      await releaseIdempotencyKey(p, start.recordId);
    }
    const retry = await beginIdempotentRequest(p, u.workspaceId, "fix-and-retry", fp);
    assert.equal(retry.kind, "started");
    await submitGeneration(p, { workspaceId: u.workspaceId, source: "api" }, JSON.parse(body));
    assert.equal(await p.db.job.count({ where: { workspaceId: u.workspaceId } }), 2);
  });
});
