import type { GenericOAuthConfig } from "better-auth/plugins/generic-oauth";
import type { OAuthProviderConfig } from "@lucid/config";
import { AppError } from "./errors.ts";
import { authFor } from "./auth.ts";
import type { Platform } from "./platform.ts";

export type OAuthProviderId = "github" | "google";
export const OAUTH_PROVIDERS: Record<OAuthProviderId, { name: string }> = { github: { name: "GitHub" }, google: { name: "Google" } };

/** The path providers send the browser back to (register `<public url>` + this with the provider). */
export const oauthCallbackPath = (id: OAuthProviderId) => `/api/auth/callback/${id}`;

async function getJson(url: string, accessToken: string | undefined): Promise<unknown> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${accessToken}`, accept: "application/json", "user-agent": "lucid" } });
  if (!res.ok) throw new Error(`profile request to ${url} answered ${res.status}`);
  return res.json();
}

/**
 * GitHub and Google as better-auth generic OAuth providers (authorization code
 * + PKCE). `baseUrl` (tests only) stands in for every host of the provider;
 * better-auth's built-in providers hard-code theirs.
 */
function providerConfig(id: OAuthProviderId, cfg: OAuthProviderConfig): GenericOAuthConfig {
  const common = { providerId: id, name: OAUTH_PROVIDERS[id].name, clientId: cfg.clientId, clientSecret: cfg.clientSecret, pkce: true, authentication: "post" as const };
  if (id === "github") {
    const web = cfg.baseUrl ?? "https://github.com";
    const api = cfg.baseUrl ?? "https://api.github.com";
    return {
      ...common,
      authorizationUrl: `${web}/login/oauth/authorize`,
      tokenUrl: `${web}/login/oauth/access_token`,
      scopes: ["read:user", "user:email"],
      async getUserInfo(tokens) {
        const user = (await getJson(`${api}/user`, tokens.accessToken)) as { id: number | string; name?: string | null; login?: string; avatar_url?: string };
        // /user shows only a public email; /user/emails says which addresses GitHub verified.
        const emails = (await getJson(`${api}/user/emails`, tokens.accessToken)) as Array<{ email: string; primary: boolean; verified: boolean }>;
        const chosen = emails.find((e) => e.primary && e.verified) ?? emails.find((e) => e.verified) ?? emails.find((e) => e.primary);
        return { id: String(user.id), email: chosen?.email.toLowerCase() ?? null, emailVerified: chosen?.verified === true, name: user.name ?? user.login ?? "", image: user.avatar_url };
      },
    };
  }
  return {
    ...common,
    authorizationUrl: `${cfg.baseUrl ?? "https://accounts.google.com"}/o/oauth2/v2/auth`,
    tokenUrl: `${cfg.baseUrl ?? "https://oauth2.googleapis.com"}/token`,
    scopes: ["openid", "email"],
    async getUserInfo(tokens) {
      const info = (await getJson(`${cfg.baseUrl ?? "https://openidconnect.googleapis.com"}/v1/userinfo`, tokens.accessToken)) as { sub: string; email?: string; email_verified?: boolean; name?: string; picture?: string };
      return { id: info.sub, email: info.email?.toLowerCase() ?? null, emailVerified: info.email_verified === true, name: info.name ?? "", image: info.picture };
    },
  };
}

/** The providers switched on by configuration, in display order. */
export function configuredOAuthProviders(p: Platform): OAuthProviderId[] {
  return (["github", "google"] as const).filter((id) => p.config.oauth?.[id]);
}

export function oauthProviderConfigs(p: Platform): GenericOAuthConfig[] {
  return configuredOAuthProviders(p).map((id) => providerConfig(id, p.config.oauth![id]!));
}

/**
 * Starts sign-in with a provider: better-auth keeps the state and PKCE verifier
 * (the Verification table, bound to a signed cookie) and answers the
 * provider's authorization URL plus the cookies to set.
 */
export async function startOAuthSignIn(p: Platform, provider: string, headers: Headers = new Headers()): Promise<{ url: string; headers: Headers }> {
  const id = configuredOAuthProviders(p).find((x) => x === provider);
  if (!id) throw new AppError("not_found", "This sign-in method is not available.");
  const { headers: set, response } = await authFor(p).api.signInSocial({
    body: { provider: id, callbackURL: "/studio", errorCallbackURL: `/signin?provider=${id}`, disableRedirect: true },
    headers,
    returnHeaders: true,
  });
  if (!response.url) throw new AppError("oauth_failed", `${OAUTH_PROVIDERS[id].name} sign-in could not start. Try again.`);
  return { url: response.url, headers: set };
}

/** What the sign-in page says for an OAuth failure better-auth reports as `?error=<code>`. */
export function oauthErrorMessage(code: string, provider?: string): string {
  const name = provider && provider in OAUTH_PROVIDERS ? OAUTH_PROVIDERS[provider as OAuthProviderId].name : "OAuth";
  switch (code) {
    case "email_not_verified":
    case "email_not_found":
      return `Your ${name} account has no verified email address. Verify one there, or sign up with email.`;
    case "account_not_linked":
      return `An account with this email already exists. Sign in with your password and verify your email, then ${name} sign-in works too.`;
    case "access_denied":
      return "Sign-in was canceled.";
    case "state_not_found":
    case "state_mismatch":
    case "invalid_state":
    case "please_restart_the_process":
    case "no_code":
    case "invalid_code":
      return `${name} sign-in expired or was not started here. Try again.`;
    default:
      return `${name} sign-in did not work. Try again.`;
  }
}
