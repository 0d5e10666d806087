import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { loadConfig } from "@lucid/config";
import { closePlatform, createPlatform, grantOperator } from "@lucid/core";
import { generate, signUp, uniqueEmail } from "./helpers.ts";

/** Makes a user an operator through the domain function, against the platform under test (its runtime.json). */
async function makeOperator(email: string) {
  const dataDir = process.env.LUCID_E2E_DATA_DIR;
  if (!dataDir) throw new Error("LUCID_E2E_DATA_DIR is not set: run through e2e/run.ts");
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("STRIPE_")));
  const p = createPlatform(loadConfig({ ...env, LUCID_DATA_DIR: dataDir }));
  try {
    await grantOperator(p, email);
  } finally {
    await closePlatform(p);
  }
}

test("usage page shows a purchase and exports CSV; a spend limit refuses a generation; an operator adjusts credits with an audited reason", async ({ page, browser }) => {
  const buyerEmail = uniqueEmail("usage-buyer");
  await signUp(page, buyerEmail);

  // Buy a pack as 3-billing.spec.ts does.
  await page.getByRole("link", { name: "Billing" }).click();
  await page.getByTestId("buy-starter").click();
  await page.getByRole("button", { name: /^Pay/ }).click();
  await expect(page).toHaveURL(/\/billing\/success\?session_id=cs_/);
  await expect(page.getByTestId("billing-balance")).toHaveText("150");

  // The billing page lists the purchase with its Stripe receipt.
  await page.goto("/billing");
  const purchase = page.getByTestId("purchase").first();
  await expect(purchase).toHaveAttribute("data-status", "paid");
  await expect(purchase.getByRole("link", { name: "Receipt" })).toHaveAttribute("href", /\/receipts\/ch_/);

  // Usage: balance, chart, the purchase in the ledger, and the CSV download.
  await page.getByRole("link", { name: "Usage", exact: true }).first().click();
  await expect(page).toHaveURL(/\/usage$/);
  await expect(page.getByTestId("usage-balance")).toHaveText("150");
  await expect(page.getByTestId("spend-chart").locator("rect[data-day]")).toHaveCount(30);
  await expect(page.getByTestId("ledger-row").filter({ hasText: "Bought 100 credits" })).toHaveAttribute("data-kind", "purchase");
  await page.getByLabel("Kind").selectOption("purchase");
  await page.getByRole("button", { name: "Filter" }).click();
  await expect(page).toHaveURL(/kind=purchase/);
  await expect(page.getByTestId("ledger-row")).toHaveCount(1);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("ledger-csv").click()]);
  expect(download.suggestedFilename()).toMatch(/^lucid-ledger-\d{4}-\d{2}-\d{2}\.csv$/);
  const csv = readFileSync((await download.path())!, "utf8").trim().split("\r\n");
  expect(csv[0]).toBe("created_at,kind,amount,balance_after,reason,job_id,reference");
  expect(csv).toHaveLength(2); // the filter applies to the export too
  expect(csv[1]).toMatch(/,purchase,100,150,Bought 100 credits \(starter\),,stripe:checkout:cs_/);

  // A monthly limit of 1 credit: one small generation passes, the next is refused with the reason.
  await page.goto("/billing");
  await page.getByLabel("Credits per month (empty = unlimited)").fill("1");
  await page.getByRole("button", { name: "Save limit" }).click();
  await expect(page.getByTestId("spend-limit-saved")).toBeVisible();
  await expect(page.getByTestId("spend-limit")).toHaveText("1");
  await generate(page, "within the limit");
  await page.getByLabel("Prompt", { exact: true }).fill("over the limit");
  await page.getByRole("button", { name: "Generate" }).click();
  await expect(page.locator(".error[role=alert]")).toContainText("monthly spend limit is 1 credits and 1 were spent this month");
  await expect(page.getByTestId("job").filter({ hasText: "over the limit" })).toHaveCount(0);

  // The buyer is no operator: no Admin link, and /admin does not exist for them.
  await expect(page.getByRole("navigation").getByRole("link", { name: "Admin" })).toHaveCount(0);
  const denied = await page.goto("/admin");
  expect(denied?.status()).toBe(404);

  // An operator adjusts the buyer's credits with a reason; the audit log shows who, what and why.
  const operatorEmail = uniqueEmail("operator");
  const ops = await browser.newContext({ baseURL: test.info().project.use.baseURL });
  const opsPage = await ops.newPage();
  await signUp(opsPage, operatorEmail);
  await makeOperator(operatorEmail);
  await opsPage.goto("/studio");
  await opsPage.getByRole("navigation").getByRole("link", { name: "Admin" }).click();
  await expect(opsPage).toHaveURL(/\/admin$/);
  await opsPage.getByLabel("Find a workspace (member email or workspace id)").fill(buyerEmail);
  await opsPage.getByRole("button", { name: "Find" }).click();
  await opsPage.getByTestId("admin-results").getByRole("link", { name: "Open" }).click();
  await expect(opsPage.getByTestId("admin-balance")).toHaveText("149");
  await opsPage.getByLabel("Action").selectOption("adjustment");
  await opsPage.getByLabel("Credits", { exact: true }).fill("-40");
  await opsPage.getByLabel("Reason (recorded in the audit log)").fill("e2e: duplicate goodwill grant reversed");
  await opsPage.getByRole("button", { name: "Apply" }).click();
  await expect(opsPage.getByTestId("admin-done")).toContainText("New balance: 109 credits");
  await expect(opsPage.getByTestId("admin-balance")).toHaveText("109");
  const row = opsPage.getByTestId("audit-row").first();
  await expect(row).toContainText(operatorEmail);
  await expect(row).toContainText("credits.adjustment");
  await expect(row).toContainText("-40");
  await expect(row).toContainText("e2e: duplicate goodwill grant reversed");
  await expect(opsPage.getByTestId("admin-ledger")).toContainText("Adjusted by operator");
  await ops.close();

  // The buyer sees the adjustment in their own ledger.
  await page.goto("/usage?kind=adjustment");
  await expect(page.getByTestId("ledger-row")).toHaveCount(1);
  await expect(page.getByTestId("usage-balance")).toHaveText("109");
});
