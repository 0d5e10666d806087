import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { beginIdempotentRequest, purgeExpiredRecords, resolveSession, signIn, signUp } from "@lucid/core";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";

const DAY = 86400_000;

describe("housekeeping: records past their life are deleted, live ones stay", () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform();
  });
  after(async () => t?.stop());

  it("deletes expired sessions, OAuth state, emailed links, idempotency keys and old webhook history, and nothing else", async () => {
    const p = t.platform;
    const now = new Date();
    const past = new Date(now.getTime() - 1000);
    const u = await signUp(p, { email: "tidy@example.com", password: "password123" });
    const live = await signIn(p, { email: "tidy@example.com", password: "password123" });
    const stale = await signIn(p, { email: "tidy@example.com", password: "password123" });
    // The cookie is "<token>.<signature>"; the table keys sessions by token.
    const staleToken = decodeURIComponent(/lucid\.session_token=([^;]+)/.exec(stale.cookie)![1]!).split(".")[0]!;
    await p.db.session.update({ where: { token: staleToken }, data: { expiresAt: past } });

    await p.db.verification.createMany({
      data: [
        { identifier: "state-old", value: "{}", expiresAt: past },
        { identifier: "state-new", value: "{}", expiresAt: new Date(now.getTime() + 600_000) },
      ],
    });
    await p.db.emailToken.createMany({
      data: [
        { userId: u.id, email: u.email, purpose: "verify_email", tokenHash: "old-link", expiresAt: past },
        { userId: u.id, email: u.email, purpose: "reset_password", tokenHash: "new-link", expiresAt: new Date(now.getTime() + 3600_000) },
      ],
    });
    const oldKey = await beginIdempotentRequest(p, u.workspaceId, "old-key", "fp");
    await beginIdempotentRequest(p, u.workspaceId, "new-key", "fp");
    assert.equal(oldKey.kind, "started");
    await p.db.idempotencyKey.updateMany({ where: { key: "old-key" }, data: { expiresAt: past } });
    await p.db.webhookEvent.createMany({
      data: [
        { workspaceId: u.workspaceId, type: "generation.succeeded", payload: "{}", createdAt: new Date(now.getTime() - 31 * DAY) },
        { workspaceId: u.workspaceId, type: "generation.succeeded", payload: "{}", createdAt: new Date(now.getTime() - 29 * DAY) },
      ],
    });

    assert.deepEqual(await purgeExpiredRecords(p, now), { idempotencyKeys: 1, sessions: 1, verifications: 1, emailTokens: 1, webhookEvents: 1 });
    assert.deepEqual(await purgeExpiredRecords(p, now), { idempotencyKeys: 0, sessions: 0, verifications: 0, emailTokens: 0, webhookEvents: 0 }, "a second pass finds nothing");

    assert.ok(await resolveSession(p, new Headers({ cookie: live.cookie })), "the live session still signs in");
    assert.equal(await resolveSession(p, new Headers({ cookie: stale.cookie })), null);
    assert.deepEqual((await p.db.verification.findMany()).map((v) => v.identifier), ["state-new"]);
    assert.deepEqual((await p.db.emailToken.findMany({ where: { userId: u.id } })).map((e) => e.tokenHash), ["new-link"]);
    assert.deepEqual((await p.db.idempotencyKey.findMany({ where: { workspaceId: u.workspaceId } })).map((k) => k.key), ["new-key"]);
    assert.equal(await p.db.webhookEvent.count({ where: { workspaceId: u.workspaceId } }), 1);
  });
});
