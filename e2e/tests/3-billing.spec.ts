import { expect, test } from "@playwright/test";
import { balance, signUp, uniqueEmail } from "./helpers.ts";

test("buying a credit pack goes through Stripe Checkout and credits the workspace exactly once", async ({ page }) => {
  await signUp(page, uniqueEmail("buyer"));
  await page.getByRole("link", { name: "Billing" }).click();
  await expect(page.getByTestId("billing-balance")).toHaveText("50");
  await page.getByTestId("buy-starter").click();

  // Stripe's hosted checkout page (the loopback stand-in in tests).
  await expect(page).not.toHaveURL(/localhost:\d+\/billing/);
  await expect(page.getByTestId("checkout-amount")).toHaveText("$5.00");
  await page.getByRole("button", { name: /^Pay/ }).click();

  // Back on Lucid's success page, after the signed webhook was delivered.
  await expect(page).toHaveURL(/\/billing\/success\?session_id=cs_/);
  await expect(page.getByTestId("checkout-result")).toContainText("100 credits");
  await expect(page.getByTestId("billing-balance")).toHaveText("150");

  // Reloading the success page (a second fulfilment attempt) adds nothing.
  await page.reload();
  await expect(page.getByTestId("billing-balance")).toHaveText("150");
  expect(await balance(page)).toBe(150);
});
