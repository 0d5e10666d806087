import { expect, test } from "@playwright/test";
import { balance, signUp, uniqueEmail } from "./helpers.ts";

test("sign up lands in the studio with starter credits; sign out and back in", async ({ page }) => {
  const email = uniqueEmail("signup");
  await signUp(page, email);
  expect(await balance(page)).toBe(50);
  await expect(page.getByTestId("test-model-notice")).toContainText("test model");

  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("navigation").getByRole("link", { name: "Sign in" })).toBeVisible();
  await page.goto("/studio");
  await expect(page).toHaveURL(/\/signin$/);

  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("wrong password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page.locator(".error[role=alert]")).toHaveText("Email or password is incorrect.");

  await page.getByLabel("Password").fill("correct horse battery");
  await page.getByRole("button", { name: "Sign in" }).click();
  await expect(page).toHaveURL(/\/studio$/);
  expect(await balance(page)).toBe(50);
});

test("sign up refuses a taken email and a short password, naming the field", async ({ page }) => {
  const email = uniqueEmail("dupe");
  await signUp(page, email);
  await page.getByRole("button", { name: "Sign out" }).click();
  await expect(page.getByRole("navigation").getByRole("link", { name: "Sign in" })).toBeVisible();
  await page.goto("/signup");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill("long enough pw");
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.locator(".error[role=alert]")).toContainText("already exists");
  await page.getByLabel("Email").fill(uniqueEmail("short"));
  await page.getByLabel("Password").fill("short");
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page.locator(".field-error")).toHaveText("Password must be at least 8 characters");
});
