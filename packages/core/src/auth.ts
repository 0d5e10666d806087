import { betterAuth, type BetterAuthPlugin } from "better-auth";
import { prismaAdapter } from "better-auth/adapters/prisma";
import { genericOAuth } from "better-auth/plugins/generic-oauth";
import { hash, verify } from "@node-rs/argon2";
import { SignUpRequest } from "@lucid/contracts";
import { oauthProviderConfigs } from "./oauth.ts";
import { ensurePersonalWorkspace } from "./accounts.ts";
import type { Platform } from "./platform.ts";

/** How long a browser session lasts without use; each day of use extends it. */
export const SESSION_DAYS = 30;

/**
 * Sessions, password sign-in and OAuth sign-in are better-auth's. Lucid keeps
 * what is domain: who gets a workspace and credits, brute-force limits per
 * account and IP (sign-in-protection.ts), and the emailed links (account-email.ts).
 *
 * Only better-auth's OAuth callback is reachable over HTTP (apps/web mounts
 * /api/auth/callback/*); everything else goes through Lucid's own actions, which
 * call `auth.api.*` on the server, so no path bypasses the limits.
 */
export function createAuth(p: Platform, plugins: BetterAuthPlugin[] = []) {
  const secure = p.config.publicUrl.startsWith("https://");
  return betterAuth({
    appName: "Lucid",
    baseURL: p.config.publicUrl,
    basePath: "/api/auth",
    secret: p.config.secret,
    trustedOrigins: [p.config.publicUrl],
    database: prismaAdapter(p.db, { provider: "postgresql" }),
    // Lucid's PostgreSQL-backed limits (rate-limiter-flexible) hold across
    // instances; better-auth's in-memory limiter would not.
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    // A wrong password is the user's mistake, not a server warning.
    logger: { level: "error" },
    emailAndPassword: {
      enabled: true,
      minPasswordLength: SignUpRequest.shape.password.minLength ?? 8,
      maxPasswordLength: SignUpRequest.shape.password.maxLength ?? 200,
      // Argon2id: memory-hard, and the format existing hashes were stored in.
      password: { hash: (password) => hash(password), verify: ({ hash: stored, password }) => verify(stored, password).catch(() => false) },
    },
    session: {
      expiresIn: SESSION_DAYS * 86400,
      updateAge: 86400,
      additionalFields: { currentWorkspaceId: { type: "string", required: false, input: false } },
    },
    account: {
      // An OAuth identity joins an existing user only when both the provider
      // and Lucid have verified the address (no pre-registration takeover).
      accountLinking: { enabled: true, requireLocalEmailVerified: true },
    },
    user: {
      // A new user from OAuth needs an address the provider verified.
      validateUserInfo: ({ user, source }) => {
        if (source.action === "create-user" && source.method === "oauth" && !user.emailVerified) return { error: "email_not_verified" };
      },
    },
    databaseHooks: {
      user: {
        create: {
          // Users created by better-auth (OAuth) get what sign-up gives: a personal workspace and starter credits.
          after: async (user) => {
            await ensurePersonalWorkspace(p, { id: user.id, email: user.email });
          },
        },
      },
    },
    onAPIError: { errorURL: `${p.config.publicUrl}/signin` },
    advanced: {
      cookiePrefix: "lucid",
      useSecureCookies: secure,
      defaultCookieAttributes: { httpOnly: true, sameSite: "lax", secure },
      database: { generateId: "uuid" },
    },
    plugins: [genericOAuth({ config: oauthProviderConfigs(p) }), ...plugins],
  });
}

export type Auth = ReturnType<typeof createAuth>;

const instances = new WeakMap<Platform, Auth>();

/** The platform's better-auth instance (built once, with the plugins the platform was created with). */
export function authFor(p: Platform): Auth {
  let auth = instances.get(p);
  if (!auth) {
    auth = createAuth(p, p.authPlugins ?? []);
    instances.set(p, auth);
  }
  return auth;
}

/** A Cookie header for the cookies a better-auth answer set (server-side callers and tests). */
export function cookieHeaderFrom(headers: Headers): string {
  return headers
    .getSetCookie()
    .map((c) => c.split(";")[0]!)
    .join("; ");
}
