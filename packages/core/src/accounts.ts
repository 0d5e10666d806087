import { createHash, randomBytes } from "node:crypto";
import { hash, verify } from "@node-rs/argon2";
import { SignInRequest, SignUpRequest, fieldErrors, describeFieldErrors } from "@lucid/contracts";
import { Prisma, type Role } from "@lucid/db";
import { AppError } from "./errors.ts";
import { appendLedgerEntry } from "./credits.ts";
import type { Platform } from "./platform.ts";

const SESSION_DAYS = 30;
// Verified against when the email is unknown, so timing does not reveal which emails exist.
let dummyHash: Promise<string> | undefined;
const getDummyHash = () => (dummyHash ??= hash(randomBytes(16).toString("hex")));

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
 * Creates a user with a personal workspace (they own it) holding the starter
 * credits, all in one transaction.
 */
export async function signUp(
  p: Platform,
  input: unknown,
  opts: { verified?: boolean } = {},
): Promise<SignedUpUser> {
  const { email, password } = parse(SignUpRequest, input);
  const passwordHash = await hash(password);
  try {
    return await p.db.$transaction(async (tx) => {
      const user = await tx.user.create({ data: { email, passwordHash, emailVerified: opts.verified ? new Date() : null } });
      const workspace = await tx.workspace.create({ data: { name: `${email.split("@")[0]}'s workspace`, kind: "personal" } });
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
      return { id: user.id, email: user.email, workspaceId: workspace.id };
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

/** Checks a password. The failure message never says which part was wrong. */
export async function signIn(p: Platform, input: unknown): Promise<{ id: string; email: string }> {
  const { email, password } = parse(SignInRequest, input);
  const user = await p.db.user.findUnique({ where: { email } });
  const ok = await verify(user?.passwordHash ?? (await getDummyHash()), password).catch(() => false);
  if (!user || !user.passwordHash || !ok) throw new AppError("invalid_credentials", "Email or password is incorrect.");
  return { id: user.id, email: user.email };
}

const tokenHash = (token: string) => createHash("sha256").update(token).digest("hex");

/** Starts a browser session; only a hash of the returned token is stored. */
export async function createSession(p: Platform, userId: string): Promise<{ token: string; expiresAt: Date }> {
  const token = randomBytes(32).toString("base64url");
  const expiresAt = new Date(Date.now() + SESSION_DAYS * 86400_000);
  await p.db.session.create({ data: { tokenHash: tokenHash(token), userId, expiresAt } });
  return { token, expiresAt };
}

export async function deleteSession(p: Platform, token: string): Promise<void> {
  await p.db.session.deleteMany({ where: { tokenHash: tokenHash(token) } });
}

export interface Viewer {
  sessionId: string;
  user: { id: string; email: string; emailVerified: boolean };
  workspace: { id: string; name: string; kind: "personal" | "team"; creditBalance: number };
  role: Role;
}

/** The signed-in user and their current workspace, or null for a missing/expired session. */
export async function resolveSession(p: Platform, token: string | undefined): Promise<Viewer | null> {
  if (!token) return null;
  const session = await p.db.session.findUnique({
    where: { tokenHash: tokenHash(token) },
    include: { user: { include: { memberships: { include: { workspace: true }, orderBy: { createdAt: "asc" } } } } },
  });
  if (!session || session.expiresAt < new Date()) return null;
  const memberships = session.user.memberships;
  const membership =
    memberships.find((m) => m.workspaceId === session.currentWorkspaceId) ??
    memberships.find((m) => m.workspace.kind === "personal") ??
    memberships[0];
  if (!membership) return null;
  const w = membership.workspace;
  return {
    sessionId: session.id,
    user: { id: session.user.id, email: session.user.email, emailVerified: session.user.emailVerified !== null },
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
