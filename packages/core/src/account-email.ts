import { createHmac, randomBytes } from "node:crypto";
import { hash } from "@node-rs/argon2";
import { z } from "zod";
import { SignUpRequest, fieldErrors, describeFieldErrors } from "@lucid/contracts";
import type { EmailTokenPurpose } from "@lucid/db";
import { RateLimiterPostgres, RateLimiterRes } from "rate-limiter-flexible";
import { AppError } from "./errors.ts";
import { sendMail } from "./mail.ts";
import { prismaRateLimitStore } from "./sign-in-protection.ts";
import type { Platform } from "./platform.ts";

/** How long an emailed link works. */
export const EMAIL_TOKEN_TTL_MS: Record<EmailTokenPurpose, number> = {
  verify_email: 24 * 3600_000,
  reset_password: 3600_000,
};

/** The answer to every reset request, whether or not the address has an account. */
export const PASSWORD_RESET_SENT = "If an account exists for that email, we sent a link to reset its password. It works for 1 hour.";

// An HMAC under the server secret, so a copy of the database cannot forge or redeem links.
export const emailTokenHash = (p: Platform, token: string) => createHmac("sha256", p.config.secret).update(`email-token:${token}`).digest("hex");

function parseOrThrow<T>(schema: z.ZodType<T>, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) {
    const fields = fieldErrors(r.error);
    throw new AppError("validation_failed", describeFieldErrors(fields), fields);
  }
  return r.data;
}

// Caps emails per address so the forms cannot be used to flood someone's inbox.
const mailLimiters = new WeakMap<object, RateLimiterPostgres>();
async function mayEmail(p: Platform, purpose: EmailTokenPurpose, email: string): Promise<boolean> {
  let l = mailLimiters.get(p.db);
  if (!l) {
    l = new RateLimiterPostgres({ storeClient: prismaRateLimitStore(p.db), storeType: "client", tableName: "rate_limit_counters", tableCreated: true, keyPrefix: "account_email", points: 5, duration: 3600 });
    mailLimiters.set(p.db, l);
  }
  return l.consume(`${purpose}:${email}`).then(
    () => true,
    (e) => (e instanceof RateLimiterRes ? false : Promise.reject(e)),
  );
}

async function issueToken(p: Platform, userId: string, email: string, purpose: EmailTokenPurpose): Promise<string> {
  const token = randomBytes(32).toString("base64url");
  await p.db.$transaction([
    // A new link replaces any earlier unused one of the same purpose.
    p.db.emailToken.updateMany({ where: { userId, purpose, usedAt: null }, data: { usedAt: new Date() } }),
    p.db.emailToken.create({
      data: { userId, email, purpose, tokenHash: emailTokenHash(p, token), expiresAt: new Date(Date.now() + EMAIL_TOKEN_TTL_MS[purpose]) },
    }),
  ]);
  return token;
}

/**
 * Redeems a link once: the row is marked used by a conditional update, so two
 * concurrent clicks cannot both succeed. Returns the user and address it was issued for.
 */
async function redeemToken(p: Platform, token: string, purpose: EmailTokenPurpose): Promise<{ userId: string; email: string }> {
  const invalid = new AppError(
    "invalid_token",
    purpose === "verify_email"
      ? "This verification link is invalid, expired or already used. Sign in and send a new one."
      : "This reset link is invalid, expired or already used. Ask for a new one.",
  );
  if (!token) throw invalid;
  const tokenHash = emailTokenHash(p, token);
  const now = new Date();
  const { count } = await p.db.emailToken.updateMany({ where: { tokenHash, purpose, usedAt: null, expiresAt: { gt: now } }, data: { usedAt: now } });
  if (count !== 1) throw invalid;
  const row = await p.db.emailToken.findUniqueOrThrow({ where: { tokenHash } });
  return { userId: row.userId, email: row.email };
}

/** Emails a 24-hour verification link to the user, unless already verified. Returns false when nothing was sent. */
export async function sendVerificationEmail(p: Platform, userId: string): Promise<boolean> {
  const user = await p.db.user.findUniqueOrThrow({ where: { id: userId } });
  if (user.emailVerified) return false;
  if (!(await mayEmail(p, "verify_email", user.email))) return false;
  const token = await issueToken(p, user.id, user.email, "verify_email");
  const url = `${p.config.publicUrl}/verify-email?token=${encodeURIComponent(token)}`;
  await sendMail(p, {
    to: user.email,
    subject: "Verify your email for Lucid",
    text: `Welcome to Lucid!\n\nConfirm your email address by opening this link (it works for 24 hours):\n\n${url}\n\nIf you did not sign up, ignore this email.`,
    html: `<p>Welcome to Lucid!</p><p>Confirm your email address (the link works for 24 hours):</p><p><a href="${url}">Verify my email</a></p><p>If you did not sign up, ignore this email.</p>`,
  });
  return true;
}

/** Marks the user's address verified from a verification link. */
export async function verifyEmail(p: Platform, token: string): Promise<{ userId: string; email: string }> {
  const { userId, email } = await redeemToken(p, token, "verify_email");
  // Only the address the link was sent to counts as verified.
  await p.db.user.updateMany({ where: { id: userId, email, emailVerified: false }, data: { emailVerified: true } });
  return { userId, email };
}

const ResetRequest = z.object({ email: SignUpRequest.shape.email });

/**
 * Emails a 1-hour password reset link if the address has an account. The
 * caller always shows PASSWORD_RESET_SENT: the outcome never reveals whether it exists.
 */
export async function requestPasswordReset(p: Platform, input: unknown): Promise<void> {
  const { email } = parseOrThrow(ResetRequest, input);
  const user = await p.db.user.findUnique({ where: { email } });
  if (!user) return;
  if (!(await mayEmail(p, "reset_password", email))) return;
  const token = await issueToken(p, user.id, email, "reset_password");
  const url = `${p.config.publicUrl}/reset-password?token=${encodeURIComponent(token)}`;
  await sendMail(p, {
    to: email,
    subject: "Reset your Lucid password",
    text: `Someone asked to reset the password of your Lucid account.\n\nChoose a new password here (the link works for 1 hour, once):\n\n${url}\n\nIf it was not you, ignore this email: your password stays as it is.`,
    html: `<p>Someone asked to reset the password of your Lucid account.</p><p><a href="${url}">Choose a new password</a> (the link works for 1 hour, once).</p><p>If it was not you, ignore this email: your password stays as it is.</p>`,
  });
}

const ResetPassword = z.object({ token: z.string().min(1, "is missing"), password: SignUpRequest.shape.password });

/**
 * Sets a new password from a reset link and signs the user out everywhere
 * (every session is deleted). Following the emailed link also proves the address.
 */
export async function resetPassword(p: Platform, input: unknown): Promise<{ id: string; email: string }> {
  const { token, password } = parseOrThrow(ResetPassword, input);
  const passwordHash = await hash(password);
  const { userId, email } = await redeemToken(p, token, "reset_password");
  const user = await p.db.$transaction(async (tx) => {
    const u = await tx.user.findUniqueOrThrow({ where: { id: userId } });
    // The password is better-auth's "credential" account; an OAuth-only user gets one here.
    await tx.account.upsert({
      where: { providerId_accountId: { providerId: "credential", accountId: userId } },
      create: { providerId: "credential", accountId: userId, userId, password: passwordHash },
      update: { password: passwordHash },
    });
    if (!u.emailVerified && u.email === email) await tx.user.update({ where: { id: userId }, data: { emailVerified: true } });
    // Signed out everywhere: better-auth finds sessions only in this table.
    await tx.session.deleteMany({ where: { userId } });
    // Outstanding reset links die with the old password.
    await tx.emailToken.updateMany({ where: { userId, purpose: "reset_password", usedAt: null }, data: { usedAt: new Date() } });
    return u;
  });
  return { id: user.id, email: user.email };
}

/** Throws unless the user has verified their email, when the platform requires it (LUCID_REQUIRE_EMAIL_VERIFICATION). */
export async function requireVerifiedEmail(p: Platform, userId: string): Promise<void> {
  if (!p.config.requireEmailVerification) return;
  const user = await p.db.user.findUnique({ where: { id: userId }, select: { emailVerified: true } });
  if (!user?.emailVerified) throw new AppError("email_not_verified", "Verify your email address first: we sent you a link when you signed up.");
}
