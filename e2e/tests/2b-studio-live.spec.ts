import { expect, test } from "@playwright/test";
import { balance, generate, signUp, uniqueEmail } from "./helpers.ts";

test("a running job shows a live preview; a job canceled in the queue is not charged", async ({ page }) => {
  await signUp(page, uniqueEmail("cancel"));
  const submitBig = async (prompt: string) => {
    await page.getByLabel("Prompt", { exact: true }).fill(prompt);
    await page.getByLabel("Width").fill("1024");
    await page.getByLabel("Height").fill("1024");
    await page.getByLabel("Steps").fill("50");
    await page.getByRole("button", { name: "Generate" }).click();
    await expect(page.getByTestId("job").filter({ hasText: prompt })).toHaveCount(1);
  };
  await page.getByRole("button", { name: "Advanced" }).click();
  // One worker runs one job at a time: the second waits in the queue while the first runs.
  await submitBig("the first large job");
  await submitBig("the second large job");
  const first = page.getByTestId("job").filter({ hasText: "the first large job" });
  const second = page.getByTestId("job").filter({ hasText: "the second large job" });

  // The preview is decoded from the latents every few steps, long before the end.
  await expect(first.getByTestId("job-preview")).toBeVisible();
  expect(await first.getByTestId("job-preview").evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth)).toBeGreaterThan(0);

  await second.getByRole("button", { name: "Cancel" }).click();
  await expect(second).toHaveAttribute("data-status", "canceled");
  await expect(second).toContainText("you were not charged");
  await expect(first).toHaveAttribute("data-status", "succeeded");
  await page.reload();
  expect(await balance(page)).toBe(50 - 8); // only the first job (8 credits) was charged
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
