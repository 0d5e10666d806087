import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { AppError, authFor, configuredOAuthProviders, cookieHeaderFrom, oauthErrorMessage, resolveSession, signIn, signUp, startOAuthSignIn, type Platform } from "@lucid/core";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";
import { startOAuthStandin, type StandinUser } from "@lucid/testing/oauth-provider-standin";

const is = (code: string) => (e: unknown) => e instanceof AppError && e.code === code;

/**
 * Plays the browser: start at Lucid, approve at the provider as `user`, follow
 * the redirect back into better-auth's callback (the handler apps/web mounts at
 * /api/auth/callback/*) with the cookies the start set.
 */
async function signInWith(p: Platform, provider: string, standin: { state: { nextUser: StandinUser | null } }, user: StandinUser, tamper: { state?: string; noCookie?: boolean } = {}) {
  const start = await startOAuthSignIn(p, provider);
  standin.state.nextUser = user;
  const res = await fetch(start.url, { redirect: "manual" });
  assert.equal(res.status, 302);
  const callback = new URL(res.headers.get("location")!);
  assert.equal(callback.pathname, `/api/auth/callback/${provider}`);
  if (tamper.state) callback.searchParams.set("state", tamper.state);
  const answer = await authFor(p).handler(new Request(callback, { headers: { cookie: tamper.noCookie ? "" : cookieHeaderFrom(start.headers) } }));
  assert.equal(answer.status, 302);
  const to = new URL(answer.headers.get("location")!, p.config.publicUrl);
  const viewer = await resolveSession(p, new Headers({ cookie: cookieHeaderFrom(answer.headers) }));
  return { to, viewer, error: to.searchParams.get("error") };
}

describe("OAuth sign-in through better-auth against a loopback provider (GitHub and Google endpoints)", () => {
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
    await assert.rejects(startOAuthSignIn(bare, "github"), is("not_found"));
    await assert.rejects(startOAuthSignIn(t.platform, "myspace"), is("not_found"));
  });

  it("the authorization URL carries state, PKCE S256 and the callback; the state is bound to an httpOnly cookie", async () => {
    const s = await startOAuthSignIn(t.platform, "github");
    const url = new URL(s.url);
    assert.equal(url.origin + url.pathname, `${gh.url}/login/oauth/authorize`);
    assert.ok((url.searchParams.get("state") ?? "").length >= 16);
    assert.equal(url.searchParams.get("code_challenge_method"), "S256");
    assert.ok(url.searchParams.get("code_challenge"));
    assert.equal(url.searchParams.get("redirect_uri"), `${t.config.publicUrl}/api/auth/callback/github`);
    assert.match(s.headers.getSetCookie().join("\n"), /HttpOnly/i);
  });

  it("a new GitHub identity creates a verified user with a personal workspace and starter credits, and signs the same user in next time", async () => {
    const p = t.platform;
    const first = await signInWith(p, "github", gh, { id: "1001", email: "Octo@Example.com", verified: true });
    assert.equal(first.to.pathname, "/studio");
    assert.ok(first.viewer, "signed in");
    const user = await p.db.user.findUniqueOrThrow({ where: { id: first.viewer.user.id }, include: { memberships: { include: { workspace: true } }, accounts: true } });
    assert.equal(user.email, "octo@example.com");
    assert.equal(user.emailVerified, true);
    assert.equal(user.memberships.length, 1);
    assert.equal(user.memberships[0]!.workspace.kind, "personal");
    assert.equal(user.memberships[0]!.workspace.creditBalance, t.config.starterCredits);
    assert.deepEqual(user.accounts.map((a) => [a.providerId, a.accountId, a.password]), [["github", "1001", null]], "no password until they set one");
    assert.equal(first.viewer.workspace.creditBalance, t.config.starterCredits);

    const again = await signInWith(p, "github", gh, { id: "1001", email: "changed@example.com", verified: true });
    assert.equal(again.viewer?.user.id, first.viewer.user.id);
    assert.equal(await p.db.membership.count({ where: { userId: first.viewer.user.id } }), 1, "no second workspace");
  });

  it("links to an existing user whose email is verified on both sides", async () => {
    const p = t.platform;
    const u = await signUp(p, { email: "linda@example.com", password: "her password" }, { verified: true });
    const r = await signInWith(p, "google", google, { id: "g-42", email: "linda@example.com", verified: true });
    assert.equal(r.viewer?.user.id, u.id);
    assert.equal(r.viewer?.workspace.id, u.workspaceId);
    assert.equal((await signIn(p, { email: "linda@example.com", password: "her password" })).id, u.id, "the password still works");
  });

  it("does not take over an unverified account, nor create a user from an unverified provider email", async () => {
    const p = t.platform;
    await signUp(p, { email: "squat@example.com", password: "attacker pw" });
    const takeover = await signInWith(p, "github", gh, { id: "2002", email: "squat@example.com", verified: true });
    assert.equal(takeover.viewer, null);
    assert.deepEqual([takeover.to.pathname, takeover.to.searchParams.get("provider"), takeover.error], ["/signin", "github", "account_not_linked"]);
    const unverified = await signInWith(p, "github", gh, { id: "2003", email: "unverified@example.com", verified: false });
    assert.equal(unverified.viewer, null);
    assert.equal(unverified.error, "email_not_verified");
    assert.equal(oauthErrorMessage(unverified.error!, "github"), "Your GitHub account has no verified email address. Verify one there, or sign up with email.");
    assert.equal(await p.db.user.findUnique({ where: { email: "unverified@example.com" } }), null);
    assert.equal(await p.db.account.count({ where: { accountId: { in: ["2002", "2003"] } } }), 0);
  });

  it("refuses a callback whose state does not match, or that comes back to a browser that did not start it", async () => {
    const p = t.platform;
    const before = gh.state.tokenRequests;
    const forged = await signInWith(p, "github", gh, { id: "3003", email: "csrf@example.com", verified: true }, { state: "forged-state-value" });
    assert.equal(forged.viewer, null);
    assert.equal(forged.to.pathname, "/signin");
    assert.ok(forged.error);
    assert.equal(oauthErrorMessage(forged.error!), "OAuth sign-in expired or was not started here. Try again.");
    const otherBrowser = await signInWith(p, "github", gh, { id: "3003", email: "csrf@example.com", verified: true }, { noCookie: true });
    assert.equal(otherBrowser.viewer, null);
    assert.equal(otherBrowser.to.pathname, "/signin");
    assert.equal(gh.state.tokenRequests, before, "no code exchange without the matching state and cookie");
    assert.equal(await p.db.user.findUnique({ where: { email: "csrf@example.com" } }), null);
  });
});
