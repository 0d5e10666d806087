import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  AppError,
  PASSWORD_RESET_SENT,
  requestPasswordReset,
  requireVerifiedEmail,
  resetPassword,
  resolveSession,
  sendVerificationEmail,
  signIn,
  signUp,
  verifyEmail,
} from "@lucid/core";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";
import { startMailCatcher } from "./support/mail-catcher.ts";

const is = (code: string) => (e: unknown) => e instanceof AppError && e.code === code;

describe("email verification and password reset links", () => {
  let t: TestPlatform;
  let mail: Awaited<ReturnType<typeof startMailCatcher>>;
  before(async () => {
    mail = await startMailCatcher();
    t = await startTestPlatform({ SMTP_URL: mail.smtpUrl, MAIL_FROM: "Lucid <no-reply@lucid.test>", LUCID_PUBLIC_URL: "http://lucid.test" });
  });
  after(async () => {
    await t?.stop();
    await mail?.stop();
  });

  it("verification: the emailed link verifies once; only a hash of its token is stored", async () => {
    const p = t.platform;
    const u = await signUp(p, { email: "vera@example.com", password: "correct horse" });
    assert.equal(await sendVerificationEmail(p, u.id), true);
    const link = await mail.linkTo("vera@example.com", "/verify-email");
    assert.equal(link.origin, "http://lucid.test");
    const token = link.searchParams.get("token")!;
    assert.ok(token.length >= 40);

    const rows = await p.db.emailToken.findMany({ where: { userId: u.id } });
    assert.equal(rows.length, 1);
    assert.notEqual(rows[0]!.tokenHash, token);
    assert.ok(!JSON.stringify(rows).includes(token), "the token itself is nowhere in the database");
    const ttlHours = (rows[0]!.expiresAt.getTime() - rows[0]!.createdAt.getTime()) / 3600_000;
    assert.ok(ttlHours > 23.9 && ttlHours <= 24.01, `expires in 24 h, not ${ttlHours}`);

    const s = new Headers({ cookie: (await signIn(p, { email: "vera@example.com", password: "correct horse" })).cookie });
    assert.equal((await resolveSession(p, s))!.user.emailVerified, false);
    await verifyEmail(p, token);
    assert.equal((await resolveSession(p, s))!.user.emailVerified, true);
    await assert.rejects(verifyEmail(p, token), is("invalid_token"), "single use");
    await assert.rejects(verifyEmail(p, "not-a-token"), is("invalid_token"));
    assert.equal(await sendVerificationEmail(p, u.id), false, "a verified user gets no more links");
  });

  it("verification: an expired link and a link replaced by a newer one do not work", async () => {
    const p = t.platform;
    const u = await signUp(p, { email: "late@example.com", password: "correct horse" });
    await sendVerificationEmail(p, u.id);
    const first = (await mail.linkTo("late@example.com", "/verify-email")).searchParams.get("token")!;
    await sendVerificationEmail(p, u.id);
    const second = (await mail.linkTo("late@example.com", "/verify-email")).searchParams.get("token")!;
    assert.notEqual(first, second);
    await assert.rejects(verifyEmail(p, first), is("invalid_token"), "the resend replaced it");

    await p.db.emailToken.updateMany({ where: { userId: u.id, usedAt: null }, data: { expiresAt: new Date(Date.now() - 1000) } });
    await assert.rejects(verifyEmail(p, second), is("invalid_token"), "expired");
    assert.equal((await p.db.user.findUniqueOrThrow({ where: { id: u.id } })).emailVerified, false);
  });

  it("verification is required for purchases and keys only when configured", async () => {
    const p = t.platform;
    const u = await signUp(p, { email: "strict@example.com", password: "correct horse" });
    await requireVerifiedEmail(p, u.id); // off by default
    const strict = { ...p, config: { ...p.config, requireEmailVerification: true } };
    await assert.rejects(requireVerifiedEmail(strict, u.id), is("email_not_verified"));
    await sendVerificationEmail(p, u.id);
    await verifyEmail(p, (await mail.linkTo("strict@example.com", "/verify-email")).searchParams.get("token")!);
    await requireVerifiedEmail(strict, u.id);
  });

  it("reset: the same answer whether or not the account exists, and no email for an unknown one", async () => {
    const p = t.platform;
    const before = (await mail.list()).length;
    assert.equal(await requestPasswordReset(p, { email: "ghost@example.com" }), undefined);
    assert.equal((await mail.list()).length, before, "nothing sent to an address without an account");
    assert.match(PASSWORD_RESET_SENT, /^If an account exists/);
    await assert.rejects(requestPasswordReset(p, { email: "not an email" }), is("validation_failed"));
  });

  it("reset: the 1-hour link sets a new password once and signs out every session", async () => {
    const p = t.platform;
    const u = await signUp(p, { email: "rosa@example.com", password: "old password" });
    const s1 = new Headers({ cookie: (await signIn(p, { email: "rosa@example.com", password: "old password" })).cookie });
    const s2 = new Headers({ cookie: (await signIn(p, { email: "rosa@example.com", password: "old password" })).cookie });
    assert.ok(await resolveSession(p, s1));
    await requestPasswordReset(p, { email: " Rosa@Example.com " });
    const link = await mail.linkTo("rosa@example.com", "/reset-password");
    const token = link.searchParams.get("token")!;
    const row = await p.db.emailToken.findFirstOrThrow({ where: { userId: u.id, purpose: "reset_password" } });
    assert.ok(!JSON.stringify(row).includes(token));
    const ttlMinutes = (row.expiresAt.getTime() - row.createdAt.getTime()) / 60_000;
    assert.ok(ttlMinutes > 59.9 && ttlMinutes <= 60.01, `expires in 1 h, not ${ttlMinutes} min`);

    await assert.rejects(resetPassword(p, { token, password: "short" }), is("validation_failed"));
    await resetPassword(p, { token, password: "new password" });
    assert.equal(await resolveSession(p, s1), null, "sessions revoked");
    assert.equal(await resolveSession(p, s2), null);
    await assert.rejects(signIn(p, { email: "rosa@example.com", password: "old password" }), is("invalid_credentials"));
    assert.equal((await signIn(p, { email: "rosa@example.com", password: "new password" })).id, u.id);
    assert.equal((await p.db.user.findUniqueOrThrow({ where: { id: u.id } })).emailVerified, true, "the link proved the address");

    await assert.rejects(resetPassword(p, { token, password: "third password" }), is("invalid_token"), "single use");
    assert.equal((await signIn(p, { email: "rosa@example.com", password: "new password" })).id, u.id);
  });

  it("reset: an expired link is refused and the password stays", async () => {
    const p = t.platform;
    const u = await signUp(p, { email: "otto@example.com", password: "old password" });
    await requestPasswordReset(p, { email: "otto@example.com" });
    const token = (await mail.linkTo("otto@example.com", "/reset-password")).searchParams.get("token")!;
    await p.db.emailToken.updateMany({ where: { userId: u.id }, data: { expiresAt: new Date(Date.now() - 1) } });
    await assert.rejects(resetPassword(p, { token, password: "new password" }), is("invalid_token"));
    assert.equal((await signIn(p, { email: "otto@example.com", password: "old password" })).id, u.id);
  });

  it("reset: at most 5 emails per address an hour, with the same answer after the cap", async () => {
    const p = t.platform;
    await signUp(p, { email: "flood@example.com", password: "old password" });
    for (let i = 0; i < 7; i++) assert.equal(await requestPasswordReset(p, { email: "flood@example.com" }), undefined);
    const deadline = Date.now() + 5000;
    while ((await mail.list("flood@example.com")).length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await mail.list("flood@example.com")).length, 5);
  });

  it("a verification token cannot reset a password", async () => {
    const p = t.platform;
    const u = await signUp(p, { email: "mix@example.com", password: "old password" });
    await sendVerificationEmail(p, u.id);
    const token = (await mail.linkTo("mix@example.com", "/verify-email")).searchParams.get("token")!;
    await assert.rejects(resetPassword(p, { token, password: "new password" }), is("invalid_token"));
  });
});
