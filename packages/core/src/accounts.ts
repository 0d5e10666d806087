import { hash } from "@node-rs/argon2";
import { APIError } from "better-auth/api";
import { SignInRequest, SignUpRequest, fieldErrors, describeFieldErrors } from "@lucid/contracts";
import { Prisma, type Role } from "@lucid/db";
import { AppError } from "./errors.ts";
import { appendLedgerEntry } from "./credits.ts";
import { authFor, cookieHeaderFrom } from "./auth.ts";
import type { Platform } from "./platform.ts";

type Tx = Prisma.TransactionClient;

function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: import("zod").ZodError } }, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) {
    const fields = fieldErrors(r.error);
    throw new AppError("validation_failed", describeFieldErrors(fields), fields);
  }
  return r.data;
}

export interface SignedUpUser {
  id: string;
  email: string;
  workspaceId: string;
}

/**
 * Gives a user their personal workspace (they own it) with the starter
 * credits, unless they have one. Serialised per user, so a repeated call
 * (a retried OAuth hook, a session that finds none) never makes a second one.
 */
export async function ensurePersonalWorkspace(p: Platform, user: { id: string; email: string }, tx?: Tx): Promise<string> {
  const run = async (tx: Tx) => {
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`personal-workspace:${user.id}`}))`;
    const existing = await tx.membership.findFirst({ where: { userId: user.id, workspace: { kind: "personal" } } });
    if (existing) return existing.workspaceId;
    const workspace = await tx.workspace.create({ data: { name: `${user.email.split("@")[0]}'s workspace`, kind: "personal" } });
    await tx.membership.create({ data: { userId: user.id, workspaceId: workspace.id, role: "owner" } });
    if (p.config.starterCredits > 0) {
      await appendLedgerEntry(tx, {
        workspaceId: workspace.id,
        kind: "grant",
        amount: p.config.starterCredits,
        externalRef: `signup:${user.id}`,
        reason: "Starter credits",
      });
    }
    return workspace.id;
  };
  return tx ? run(tx) : p.db.$transaction(run);
}

/**
 * Creates a user, their password (better-auth's "credential" account, argon2id)
 * and their personal workspace with the starter credits, in one transaction.
 */
export async function signUp(p: Platform, input: unknown, opts: { verified?: boolean } = {}): Promise<SignedUpUser> {
  const { email, password } = parse(SignUpRequest, input);
  const passwordHash = await hash(password);
  try {
    return await p.db.$transaction(async (tx) => {
      const user = await tx.user.create({ data: { email, name: email.split("@")[0], emailVerified: opts.verified === true } });
      await tx.account.create({ data: { providerId: "credential", accountId: user.id, userId: user.id, password: passwordHash } });
      const workspaceId = await ensurePersonalWorkspace(p, user, tx);
      return { id: user.id, email: user.email, workspaceId };
    });
  } catch (err) {
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002") {
      throw new AppError("email_taken", "An account with this email already exists. Sign in instead.", [
        { field: "email", message: "is already registered" },
      ]);
    }
    throw err;
  }
}

/** A session better-auth started: who, and the cookies it set. */
export interface StartedSession {
  id: string;
  email: string;
  /** better-auth's answer headers (Set-Cookie). In the web app its nextCookies plugin has already applied them. */
  headers: Headers;
  /** The same session as a Cookie request header, for server-side callers and tests. */
  cookie: string;
}

/**
 * Checks a password and starts a session (better-auth's email sign-in). The
 * failure message never says which part was wrong, and an unknown email costs
 * the same hashing time as a wrong password.
 */
export async function signIn(p: Platform, input: unknown, ctx: { headers?: Headers } = {}): Promise<StartedSession> {
  const { email, password } = parse(SignInRequest, input);
  try {
    const { headers, response } = await authFor(p).api.signInEmail({
      body: { email, password, rememberMe: true },
      headers: ctx.headers ?? new Headers(),
      returnHeaders: true,
    });
    return { id: response.user.id, email: response.user.email, headers, cookie: cookieHeaderFrom(headers) };
  } catch (err) {
    if (err instanceof APIError && err.status === "UNAUTHORIZED") {
      throw new AppError("invalid_credentials", "Email or password is incorrect.");
    }
    throw err;
  }
}

/** Ends the session the request's cookie carries (and clears the cookie). */
export async function signOut(p: Platform, headers: Headers): Promise<void> {
  await authFor(p).api.signOut({ headers }).catch((err) => {
    // No session to end is not an error for someone signing out.
    if (!(err instanceof APIError)) throw err;
  });
}

export interface Viewer {
  sessionId: string;
  user: { id: string; email: string; emailVerified: boolean };
  workspace: { id: string; name: string; kind: "personal" | "team"; creditBalance: number };
  role: Role;
}

/** The signed-in user (from the request's session cookie) and their current workspace; null when signed out. */
export async function resolveSession(p: Platform, headers: Headers): Promise<Viewer | null> {
  if (!headers.get("cookie")) return null;
  const found = await authFor(p).api.getSession({ headers });
  if (!found) return null;
  const { session, user } = found;
  let memberships = await p.db.membership.findMany({ where: { userId: user.id }, include: { workspace: true }, orderBy: { createdAt: "asc" } });
  if (memberships.length === 0) {
    // A user better-auth created whose workspace hook did not finish.
    await ensurePersonalWorkspace(p, user);
    memberships = await p.db.membership.findMany({ where: { userId: user.id }, include: { workspace: true }, orderBy: { createdAt: "asc" } });
  }
  const current = (session as { currentWorkspaceId?: string | null }).currentWorkspaceId;
  const membership =
    memberships.find((m) => m.workspaceId === current) ?? memberships.find((m) => m.workspace.kind === "personal") ?? memberships[0];
  if (!membership) return null;
  const w = membership.workspace;
  return {
    sessionId: session.id,
    user: { id: user.id, email: user.email, emailVerified: user.emailVerified },
    workspace: { id: w.id, name: w.name, kind: w.kind, creditBalance: w.creditBalance },
    role: membership.role,
  };
}

export async function findUserByEmail(p: Platform, email: string) {
  const user = await p.db.user.findUnique({
    where: { email: email.trim().toLowerCase() },
    include: { memberships: { include: { workspace: true } } },
  });
  if (!user) return null;
  const personal = user.memberships.find((m) => m.workspace.kind === "personal");
  return { id: user.id, email: user.email, personalWorkspaceId: personal?.workspaceId ?? null };
}
