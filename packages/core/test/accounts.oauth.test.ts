import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { AppError, completeOAuthSignIn, configuredOAuthProviders, signIn, signUp, startOAuthSignIn, type Platform } from "@lucid/core";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";
import { startOAuthStandin, type StandinUser } from "@lucid/testing/oauth-provider-standin";

const is = (code: string) => (e: unknown) => e instanceof AppError && e.code === code;

/** Plays the browser: follow the authorization redirect as `user`, then hand the callback to the domain. */
async function signInWith(p: Platform, provider: string, standin: { state: { nextUser: StandinUser | null } }, user: StandinUser, tamper: { state?: string; verifier?: string } = {}) {
  const start = startOAuthSignIn(p, provider);
  standin.state.nextUser = user;
  const res = await fetch(start.url, { redirect: "manual" });
  assert.equal(res.status, 302);
  const callback = new URL(res.headers.get("location")!);
  assert.equal(callback.pathname, `/auth/${provider}/callback`);
  return completeOAuthSignIn(p, provider, {
    code: callback.searchParams.get("code"),
    state: tamper.state ?? callback.searchParams.get("state"),
    expectedState: start.state,
    codeVerifier: tamper.verifier ?? start.codeVerifier,
  });
}

describe("OAuth sign-in against a loopback provider (GitHub and Google endpoints)", () => {
  let t: TestPlatform;
  let gh: Awaited<ReturnType<typeof startOAuthStandin>>;
  let google: Awaited<ReturnType<typeof startOAuthStandin>>;
  before(async () => {
    gh = await startOAuthStandin({ clientId: "gh-client", clientSecret: "gh-secret" });
    google = await startOAuthStandin({ clientId: "g-client", clientSecret: "g-secret" });
    t = await startTestPlatform({
      GITHUB_CLIENT_ID: "gh-client",
      GITHUB_CLIENT_SECRET: "gh-secret",
      LUCID_OAUTH_GITHUB_BASE_URL: gh.url,
      GOOGLE_CLIENT_ID: "g-client",
      GOOGLE_CLIENT_SECRET: "g-secret",
      LUCID_OAUTH_GOOGLE_BASE_URL: google.url,
    });
  });
  after(async () => {
    await t?.stop();
    await gh?.stop();
    await google?.stop();
  });

  it("lists only configured providers", async () => {
    assert.deepEqual(configuredOAuthProviders(t.platform), ["github", "google"]);
    const bare = { ...t.platform, config: { ...t.platform.config, oauth: {} } };
    assert.deepEqual(configuredOAuthProviders(bare), []);
    assert.throws(() => startOAuthSignIn(bare, "github"), is("not_found"));
    assert.throws(() => startOAuthSignIn(t.platform, "myspace"), is("not_found"));
  });

  it("the authorization URL carries state, PKCE S256 and the callback", () => {
    const s = startOAuthSignIn(t.platform, "github");
    const url = new URL(s.url);
    assert.equal(url.origin + url.pathname, `${gh.url}/login/oauth/authorize`);
    assert.equal(url.searchParams.get("state"), s.state);
    assert.equal(url.searchParams.get("code_challenge_method"), "S256");
    assert.equal(url.searchParams.get("redirect_uri"), `${t.config.publicUrl}/auth/github/callback`);
  });

  it("a new GitHub identity creates a verified user with a personal workspace and starter credits, and signs the same user in next time", async () => {
    const p = t.platform;
    const first = await signInWith(p, "github", gh, { id: "1001", email: "Octo@Example.com", verified: true });
    assert.equal(first.created, true);
    const user = await p.db.user.findUniqueOrThrow({ where: { id: first.userId }, include: { memberships: { include: { workspace: true } }, accounts: true } });
    assert.equal(user.email, "octo@example.com");
    assert.notEqual(user.emailVerified, null);
    assert.equal(user.passwordHash, null, "no password until they set one");
    assert.equal(user.memberships[0]!.workspace.kind, "personal");
    assert.equal(user.memberships[0]!.workspace.creditBalance, t.config.starterCredits);
    assert.deepEqual(user.accounts.map((a) => [a.provider, a.providerAccountId]), [["github", "1001"]]);

    const again = await signInWith(p, "github", gh, { id: "1001", email: "changed@example.com", verified: true });
    assert.deepEqual(again, { userId: first.userId, created: false });
  });

  it("links to an existing user whose email is verified on both sides", async () => {
    const p = t.platform;
    const u = await signUp(p, { email: "linda@example.com", password: "her password" }, { verified: true });
    const r = await signInWith(p, "google", google, { id: "g-42", email: "linda@example.com", verified: true });
    assert.deepEqual(r, { userId: u.id, created: false });
    assert.equal((await signIn(p, { email: "linda@example.com", password: "her password" })).id, u.id, "the password still works");
  });

  it("does not take over an unverified account, nor trust an unverified provider email", async () => {
    const p = t.platform;
    await signUp(p, { email: "squat@example.com", password: "attacker pw" });
    await assert.rejects(signInWith(p, "github", gh, { id: "2002", email: "squat@example.com", verified: true }), is("oauth_failed"));
    await assert.rejects(signInWith(p, "github", gh, { id: "2003", email: "unverified@example.com", verified: false }), is("oauth_failed"));
    assert.equal(await p.db.user.findUnique({ where: { email: "unverified@example.com" } }), null);
    assert.equal(await p.db.account.count({ where: { providerAccountId: { in: ["2002", "2003"] } } }), 0);
  });

  it("refuses a callback whose state does not match, or whose PKCE verifier is wrong", async () => {
    const p = t.platform;
    const before = gh.state.tokenRequests;
    await assert.rejects(signInWith(p, "github", gh, { id: "3003", email: "csrf@example.com", verified: true }, { state: "forged" }), is("oauth_failed"));
    assert.equal(gh.state.tokenRequests, before, "no code exchange without matching state");
    await assert.rejects(signInWith(p, "github", gh, { id: "3003", email: "csrf@example.com", verified: true }, { verifier: "x".repeat(43) }), is("oauth_failed"));
    assert.equal(await p.db.user.findUnique({ where: { email: "csrf@example.com" } }), null);
  });
});
