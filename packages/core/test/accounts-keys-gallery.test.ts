import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  AppError,
  authenticateApiKey,
  claimJob,
  completeJob,
  createApiKey,
  getPublicImage,
  getViewableImage,
  listPublicImages,
  publishImage,
  resolveSession,
  revokeApiKey,
  signIn,
  signOut,
  signUp,
  submitGeneration,
  unpublishImage,
} from "@lucid/core";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";

const is = (code: string) => (e: unknown) => e instanceof AppError && e.code === code;

describe("accounts, API keys and the gallery", () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform();
  });
  after(async () => t?.stop());

  it("signs up once per email, and signs in without revealing which part was wrong", async () => {
    const p = t.platform;
    const u = await signUp(p, { email: " Ada@Example.com ", password: "analytical" });
    assert.equal(u.email, "ada@example.com");
    await assert.rejects(signUp(p, { email: "ada@example.com", password: "another-one" }), is("email_taken"));
    await assert.rejects(signUp(p, { email: "not-an-email", password: "analytical" }), is("validation_failed"));
    await assert.rejects(signUp(p, { email: "short@example.com", password: "short" }), is("validation_failed"));
    const wrongPw = await signIn(p, { email: "ada@example.com", password: "wrong" }).catch((e) => e);
    const noUser = await signIn(p, { email: "nobody@example.com", password: "wrong" }).catch((e) => e);
    assert.equal(wrongPw.message, noUser.message);
    assert.equal((await signIn(p, { email: "ADA@example.com", password: "analytical" })).id, u.id);
    const s = await signIn(p, { email: "ada@example.com", password: "analytical" });
    assert.match(s.headers.getSetCookie().join("\n"), /^lucid\.session_token=[^;]+;.*HttpOnly.*SameSite=Lax/im, "an httpOnly, SameSite session cookie");
    const viewer = await resolveSession(p, new Headers({ cookie: s.cookie }));
    assert.equal(viewer?.workspace.id, u.workspaceId);
    assert.equal(viewer?.workspace.creditBalance, 50);
    assert.equal(await resolveSession(p, new Headers()), null);
    // The cookie is signed with the server secret: a token copied from the database alone is refused.
    const stored = await p.db.session.findFirstOrThrow({ where: { userId: u.id }, orderBy: { createdAt: "desc" } });
    assert.equal(await resolveSession(p, new Headers({ cookie: `lucid.session_token=${stored.token}` })), null);
    assert.equal(await resolveSession(p, new Headers({ cookie: `lucid.session_token=${stored.token}.forged-signature` })), null);
    const password = await p.db.account.findFirstOrThrow({ where: { userId: u.id, providerId: "credential" } });
    assert.match(password.password!, /^\$argon2id\$/, "passwords are hashed with argon2id");
    await signOut(p, new Headers({ cookie: s.cookie }));
    assert.equal(await resolveSession(p, new Headers({ cookie: s.cookie })), null, "signed out");
  });

  it("API keys are stored hashed, authenticate their workspace, and stop working when revoked", async () => {
    const p = t.platform;
    const u = await signUp(p, { email: "dev@example.com", password: "password123" });
    const k = await createApiKey(p, u.workspaceId, u.id, { name: "ci" });
    assert.match(k.key, /^lucid_sk_[A-Za-z0-9_-]{32}$/);
    const row = await p.db.apiKey.findUniqueOrThrow({ where: { id: k.id } });
    assert.ok(!JSON.stringify(row).includes(k.key.slice(9)), "the key itself is not stored");
    const principal = await authenticateApiKey(p, k.key);
    assert.deepEqual({ workspaceId: principal.workspaceId, apiKeyId: principal.apiKeyId }, { workspaceId: u.workspaceId, apiKeyId: k.id });
    await assert.rejects(authenticateApiKey(p, k.key + "x"), is("invalid_api_key"));
    const other = await signUp(p, { email: "other@example.com", password: "password123" });
    await assert.rejects(revokeApiKey(p, other.workspaceId, k.id), is("not_found"), "another workspace cannot revoke it");
    await revokeApiKey(p, u.workspaceId, k.id);
    await assert.rejects(authenticateApiKey(p, k.key), is("api_key_revoked"));
  });

  it("publishes and unpublishes, pages newest first, and never shows private images to others", async () => {
    const p = t.platform;
    const owner = await signUp(p, { email: "artist@example.com", password: "password123" });
    const stranger = await signUp(p, { email: "stranger@example.com", password: "password123" });
    const imageIds: string[] = [];
    for (let i = 0; i < 3; i++) {
      const job = await submitGeneration(p, { workspaceId: owner.workspaceId, source: "web" }, { prompt: `picture ${i}`, width: 64, height: 64, steps: 2 });
      await claimJob(p, job.id, "w", 60_000);
      await completeJob(p, job.id, "w", [{ storageKey: `k/${job.id}.png`, width: 64, height: 64, seed: i, contentType: "image/png" }]);
      imageIds.push((await p.db.image.findFirstOrThrow({ where: { jobId: job.id } })).id);
    }
    const [first, second, third] = imageIds as [string, string, string];
    await assert.rejects(getPublicImage(p, first), is("not_found"));
    await assert.rejects(getViewableImage(p, first, [stranger.workspaceId]), is("not_found"), "private: hidden from other workspaces");
    assert.equal((await getViewableImage(p, first, [owner.workspaceId])).id, first);
    await assert.rejects(publishImage(p, stranger.workspaceId, first), is("not_found"), "only the owner can publish");

    for (const id of imageIds) {
      await publishImage(p, owner.workspaceId, id);
      await new Promise((r) => setTimeout(r, 5));
    }
    const page1 = await listPublicImages(p, { limit: 2 });
    assert.deepEqual(page1.images.map((i) => i.id), [third, second], "newest first");
    assert.ok(page1.nextCursor);
    const page2 = await listPublicImages(p, { limit: 2, cursor: page1.nextCursor! });
    assert.deepEqual(page2.images.map((i) => i.id), [first]);
    assert.equal(page2.nextCursor, null);
    assert.equal((await getViewableImage(p, first, [])).id, first, "public: anyone can view it");

    await unpublishImage(p, owner.workspaceId, first);
    await assert.rejects(getViewableImage(p, first, [stranger.workspaceId]), is("not_found"));
    assert.deepEqual((await listPublicImages(p)).images.map((i) => i.id), [third, second]);
    await assert.rejects(listPublicImages(p, { cursor: "garbage" }), is("validation_failed"));
  });
});
