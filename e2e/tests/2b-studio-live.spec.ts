import { expect, test } from "@playwright/test";
import { balance, generate, signUp, uniqueEmail } from "./helpers.ts";

test("a running job shows a live preview and can be canceled without charge", async ({ page }) => {
  await signUp(page, uniqueEmail("cancel"));
  await page.getByLabel("Prompt").fill("a long, large job");
  await page.getByRole("button", { name: "Advanced" }).click();
  await page.getByLabel("Width").fill("1024");
  await page.getByLabel("Height").fill("1024");
  await page.getByLabel("Steps").fill("50");
  await page.getByRole("button", { name: "Generate" }).click();
  const job = page.getByTestId("job").first();
  // The preview is decoded from the latents every few steps, long before the end.
  await expect(job.getByTestId("job-preview")).toBeVisible();
  const preview = await job.getByTestId("job-preview").evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth);
  expect(preview).toBeGreaterThan(0);
  await job.getByRole("button", { name: "Cancel" }).click();
  await expect(job).toHaveAttribute("data-status", "canceled");
  await expect(job).toContainText("you were not charged");
  await page.reload();
  expect(await balance(page)).toBe(50);
});

test("make variations of an image", async ({ page }) => {
  await signUp(page, uniqueEmail("variations"));
  const source = await generate(page, "a sailing boat");
  const sourceId = (await source.getAttribute("data-job-id"))!;
  await page.locator(`[data-job-id="${sourceId}"]`).getByRole("button", { name: "Make variations" }).click();
  await expect(page.getByTestId("job")).toHaveCount(2);
  const variation = page.getByTestId("job").first();
  await expect(variation).not.toHaveAttribute("data-job-id", sourceId);
  await expect(variation).toHaveAttribute("data-status", "succeeded");
  await expect(variation.getByTestId("job-image")).toBeVisible();
});
