import { expect, test, type Page } from "@playwright/test";
import { balance, uniqueEmail } from "./helpers.ts";

// The runner points GitHub sign-in at a loopback server speaking GitHub's OAuth endpoints.
const PROVIDER = process.env.LUCID_E2E_OAUTH_URL;

/** Who approves at the stand-in provider next. */
async function approveAs(user: { id: string; email: string; verified: boolean }) {
  const res = await fetch(`${PROVIDER}/__standin/next-user`, { method: "POST", body: JSON.stringify(user) });
  expect(res.status).toBe(200);
}

async function continueWithGitHub(page: Page) {
  await page.goto("/signin");
  await page.getByRole("link", { name: "Continue with GitHub" }).click();
}

test("GitHub sign-in creates a verified account with starter credits, and signs the same account in again", async ({ page }) => {
  expect(PROVIDER, "the e2e runner starts the OAuth stand-in").toBeTruthy();
  const email = uniqueEmail("octo");
  const id = String(Date.now());
  await approveAs({ id, email, verified: true });
  await continueWithGitHub(page);
  await expect(page).toHaveURL(/\/studio$/);
  expect(await balance(page)).toBe(50);
  await expect(page.getByRole("banner")).toContainText(email);
  await expect(page.getByTestId("verify-banner")).toHaveCount(0);

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("navigation").getByRole("link", { name: "Sign in" })).toBeVisible();
  await approveAs({ id, email: uniqueEmail("renamed"), verified: true });
  await continueWithGitHub(page);
  await expect(page).toHaveURL(/\/studio$/);
  await expect(page.getByRole("banner")).toContainText(email);
});

test("GitHub sign-in is refused without a verified email, and a callback that was not started here is refused", async ({ page }) => {
  // GitHub account ids are numbers.
  await approveAs({ id: String(Date.now() + 1), email: uniqueEmail("unverified"), verified: false });
  await continueWithGitHub(page);
  await expect(page).toHaveURL(/\/signin\?.*error=/);
  await expect(page.locator(".error[role=alert]")).toHaveText("Your GitHub account has no verified email address. Verify one there, or sign up with email.");

  await page.goto("/api/auth/callback/github?code=stolen&state=forged");
  await expect(page).toHaveURL(/\/signin\?error=/);
  await expect(page.locator(".error[role=alert]")).toHaveText("OAuth sign-in expired or was not started here. Try again.");
});
