import { randomBytes } from "node:crypto";
import { CodeChallengeMethod, OAuth2Client, generateCodeVerifier, generateState } from "arctic";
import type { OAuthProviderConfig } from "@lucid/config";
import { Prisma } from "@lucid/db";
import { AppError } from "./errors.ts";
import { signUp } from "./accounts.ts";
import type { Platform } from "./platform.ts";

export type OAuthProviderId = "github" | "google";
export const OAUTH_PROVIDERS: Record<OAuthProviderId, { name: string }> = { github: { name: "GitHub" }, google: { name: "Google" } };

/** What a provider says about the person who signed in. */
interface ProviderProfile {
  id: string;
  email: string | null;
  emailVerified: boolean;
}

interface ProviderSpec {
  authorize: string;
  token: string;
  scopes: string[];
  profile(accessToken: string): Promise<ProviderProfile>;
}

async function getJson(url: string, accessToken: string): Promise<unknown> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${accessToken}`, accept: "application/json", "user-agent": "lucid" } });
  if (!res.ok) throw new AppError("oauth_failed", `The provider refused the profile request (${res.status}).`);
  return res.json();
}

// Endpoints per provider; `baseUrl` (tests only) stands in for every host of the provider.
function providerSpec(id: OAuthProviderId, cfg: OAuthProviderConfig): ProviderSpec {
  if (id === "github") {
    const web = cfg.baseUrl ?? "https://github.com";
    const api = cfg.baseUrl ?? "https://api.github.com";
    return {
      authorize: `${web}/login/oauth/authorize`,
      token: `${web}/login/oauth/access_token`,
      scopes: ["read:user", "user:email"],
      async profile(token) {
        const user = (await getJson(`${api}/user`, token)) as { id: number | string };
        // /user shows only a public email; /user/emails says which addresses GitHub verified.
        const emails = (await getJson(`${api}/user/emails`, token)) as Array<{ email: string; primary: boolean; verified: boolean }>;
        const primary = emails.find((e) => e.primary && e.verified) ?? emails.find((e) => e.verified);
        return { id: String(user.id), email: primary?.email.toLowerCase() ?? null, emailVerified: Boolean(primary) };
      },
    };
  }
  return {
    authorize: `${cfg.baseUrl ?? "https://accounts.google.com"}/o/oauth2/v2/auth`,
    token: `${cfg.baseUrl ?? "https://oauth2.googleapis.com"}/token`,
    scopes: ["openid", "email"],
    async profile(token) {
      const info = (await getJson(`${cfg.baseUrl ?? "https://openidconnect.googleapis.com"}/v1/userinfo`, token)) as { sub: string; email?: string; email_verified?: boolean };
      return { id: info.sub, email: info.email?.toLowerCase() ?? null, emailVerified: info.email_verified === true };
    },
  };
}

/** The providers switched on by configuration, in display order. */
export function configuredOAuthProviders(p: Platform): OAuthProviderId[] {
  return (["github", "google"] as const).filter((id) => p.config.oauth?.[id]);
}

function setup(p: Platform, provider: string) {
  const cfg = (provider === "github" || provider === "google") && p.config.oauth?.[provider];
  if (!cfg) throw new AppError("not_found", "This sign-in method is not available.");
  const id = provider as OAuthProviderId;
  const client = new OAuth2Client(cfg.clientId, cfg.clientSecret, `${p.config.publicUrl}/auth/${id}/callback`);
  return { id, client, spec: providerSpec(id, cfg) };
}

/** Starts an authorization-code flow with PKCE. Keep `state` and `codeVerifier` in short-lived httpOnly cookies. */
export function startOAuthSignIn(p: Platform, provider: string): { url: string; state: string; codeVerifier: string } {
  const { client, spec } = setup(p, provider);
  const state = generateState();
  const codeVerifier = generateCodeVerifier();
  const url = client.createAuthorizationURLWithPKCE(spec.authorize, state, CodeChallengeMethod.S256, codeVerifier, spec.scopes);
  return { url: url.toString(), state, codeVerifier };
}

/**
 * Finishes the flow: checks state, exchanges the code, reads the profile and
 * finds the user. A known identity signs in its user; a new one with a
 * provider-verified email links to our user with that address if they have
 * verified it too (an unverified one could belong to someone who typed another
 * person's address), and otherwise creates a user with a personal workspace.
 */
export async function completeOAuthSignIn(
  p: Platform,
  provider: string,
  q: { code?: string | null; state?: string | null; expectedState?: string; codeVerifier?: string },
): Promise<{ userId: string; created: boolean }> {
  const { id, client, spec } = setup(p, provider);
  const name = OAUTH_PROVIDERS[id].name;
  if (!q.code || !q.state || !q.expectedState || !q.codeVerifier || q.state !== q.expectedState) {
    throw new AppError("oauth_failed", `${name} sign-in expired or was not started here. Try again.`);
  }
  let accessToken: string;
  try {
    accessToken = (await client.validateAuthorizationCode(spec.token, q.code, q.codeVerifier)).accessToken();
  } catch {
    throw new AppError("oauth_failed", `${name} did not accept the sign-in. Try again.`);
  }
  const profile = await spec.profile(accessToken);

  const existing = await p.db.account.findUnique({ where: { provider_providerAccountId: { provider: id, providerAccountId: profile.id } } });
  if (existing) return { userId: existing.userId, created: false };

  if (!profile.email || !profile.emailVerified) {
    throw new AppError("oauth_failed", `Your ${name} account has no verified email address. Verify one there, or sign up with email.`);
  }
  const link = (userId: string) => p.db.account.create({ data: { provider: id, providerAccountId: profile.id, userId, email: profile.email } });

  const user = await p.db.user.findUnique({ where: { email: profile.email } });
  if (user) {
    if (!user.emailVerified) {
      throw new AppError("oauth_failed", `An account with this email already exists. Sign in with your password and verify your email, then ${name} sign-in works too.`);
    }
    await link(user.id);
    return { userId: user.id, created: false };
  }
  // No password: the user signs in with the provider (or sets one through "Forgot password?").
  const created = await signUp(p, { email: profile.email, password: randomBytes(24).toString("base64url") }, { verified: true });
  await p.db.user.update({ where: { id: created.id }, data: { passwordHash: null } });
  try {
    await link(created.id);
  } catch (err) {
    if (!(err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002")) throw err;
  }
  return { userId: created.id, created: true };
}
