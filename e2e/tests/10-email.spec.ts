import { expect, test, type Page } from "@playwright/test";
import { signUp, uniqueEmail } from "./helpers.ts";

// The runner's mail catcher (MailDev): every email the platform sends, readable over its REST API.
const INBOX = process.env.LUCID_E2E_MAIL_URL;

interface CaughtEmail {
  subject: string;
  text: string;
  to: Array<{ address: string }>;
}

async function emailsTo(address: string): Promise<CaughtEmail[]> {
  const res = await fetch(`${INBOX}/api/email`);
  const all = (await res.json()) as CaughtEmail[];
  return all.filter((m) => m.to.some((t) => t.address === address));
}

/** Waits for the `nth` (1-based) email to `address` holding a link that contains `path`, and returns that link. */
async function linkInEmail(address: string, path: string, nth = 1): Promise<string> {
  let link = "";
  await expect
    .poll(async () => {
      const links = (await emailsTo(address)).flatMap((m) => m.text.match(/https?:\/\/\S+/g)?.filter((u) => u.includes(path)) ?? []);
      link = links[nth - 1] ?? "";
      return link;
    }, { message: `email ${nth} to ${address} with a ${path} link` })
    .not.toBe("");
  return link;
}

/** The sign-in form shows `message`; React has reset the form, so the next fill is not wiped. */
async function expectSignInError(page: Page, message: string) {
  await expect(page.locator(".error[role=alert]")).toHaveText(message);
  await expect(page.getByLabel("Password")).toHaveValue("");
}

async function signOut(page: Page) {
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("navigation").getByRole("link", { name: "Sign in" })).toBeVisible();
}

/** One sign-in submission, waiting for the server action's answer (the alert text may repeat). */
async function signInAttempt(page: Page, email: string, password: string) {
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  const answered = page.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/signin");
  await page.getByRole("button", { name: "Sign in" }).click();
  await answered;
}

test("sign up sends a verification email; its link verifies the address and the banner goes away", async ({ page }) => {
  expect(INBOX, "the e2e runner starts a mail catcher").toBeTruthy();
  const email = uniqueEmail("verify");
  await signUp(page, email);
  const banner = page.getByTestId("verify-banner");
  await expect(banner).toContainText(`Please verify ${email}`);

  const first = await linkInEmail(email, "/verify-email?token=");
  expect((await emailsTo(email))[0]!.subject).toBe("Verify your email for Lucid");

  // "Resend" mails a new link, which replaces the first one.
  await banner.getByRole("button", { name: "Resend the email" }).click();
  await expect(banner.getByRole("status")).toHaveText(`We sent a new verification link to ${email}.`);
  const second = await linkInEmail(email, "/verify-email?token=", 2);
  expect(second).not.toBe(first);

  await page.goto(first);
  await expect(page.locator(".error[role=alert]")).toContainText("invalid, expired or already used");
  await page.goto(second);
  await expect(page.getByRole("heading", { name: "Email verified" })).toBeVisible();
  await expect(page.getByTestId("verified")).toContainText(email);
  await page.goto("/studio");
  await expect(page.getByTestId("balance")).toBeVisible();
  await expect(page.getByTestId("verify-banner")).toHaveCount(0);

  // The link works once.
  await page.goto(second);
  await expect(page.getByRole("heading", { name: "Verification failed" })).toBeVisible();
});

test("forgot password: the same answer for unknown emails; the emailed link sets a new password", async ({ page }) => {
  const email = uniqueEmail("reset");
  await signUp(page, email, "old password 1");
  await signOut(page);

  await page.goto("/signin");
  await page.getByRole("link", { name: "Forgot password?" }).click();
  await expect(page.getByRole("heading", { name: "Forgot your password?" })).toBeVisible();
  await page.getByLabel("Email").fill(uniqueEmail("nobody"));
  await page.getByRole("button", { name: "Email me a reset link" }).click();
  const answer = page.getByRole("status");
  await expect(answer).toHaveText(/^If an account exists for that email, we sent a link/);
  const unknownAnswer = await answer.textContent();

  await page.goto("/forgot-password");
  await page.getByLabel("Email").fill(email);
  await page.getByRole("button", { name: "Email me a reset link" }).click();
  await expect(page.getByRole("status")).toHaveText(unknownAnswer!);

  const link = await linkInEmail(email, "/reset-password?token=");
  await page.goto(link);
  await page.getByLabel("New password").fill("new password 2");
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page).toHaveURL(/\/studio/);
  await signOut(page);

  await page.goto("/signin");
  await signInAttempt(page, email, "old password 1");
  await expectSignInError(page, "Email or password is incorrect.");
  await signInAttempt(page, email, "new password 2");
  await expect(page).toHaveURL(/\/studio$/);

  // The reset link is spent.
  await page.goto(link);
  await page.getByLabel("New password").fill("third password 3");
  await page.getByRole("button", { name: "Set new password" }).click();
  await expect(page.locator(".error[role=alert]")).toContainText("invalid, expired or already used");
});

test("too many wrong passwords lock the account with a clear message", async ({ page }) => {
  const email = uniqueEmail("lockout");
  await signUp(page, email, "right password");
  await signOut(page);
  await page.goto("/signin");
  for (let i = 0; i < 5; i++) {
    await signInAttempt(page, email, `wrong password ${i}`);
    await expectSignInError(page, "Email or password is incorrect.");
  }
  await signInAttempt(page, email, "right password");
  await expectSignInError(page, "Too many sign-in attempts. Try again in 15 minutes.");
  await expect(page).toHaveURL(/\/signin$/);
});
