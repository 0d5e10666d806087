import { expect, test } from "@playwright/test";
import { balance, signUp, uniqueEmail } from "./helpers.ts";

test("a prompt becomes an image: queued, running with step progress, then the image, without reloading", async ({ page }) => {
  await signUp(page, uniqueEmail("gen"));
  const seen = new Set<string>();
  const progress = new Set<string>();
  // Record every status and progress text the page shows while the job runs.
  await page.exposeFunction("lucidSeen", (status: string, text: string) => {
    seen.add(status);
    if (text) progress.add(text);
  });
  await page.evaluate(() => {
    new MutationObserver(() => {
      for (const el of document.querySelectorAll("[data-testid=job]")) {
        const p = el.querySelector("[data-testid=job-progress]")?.textContent ?? "";
        (window as unknown as { lucidSeen: (s: string, t: string) => void }).lucidSeen(el.getAttribute("data-status") ?? "", p);
      }
    }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  });

  await page.getByLabel("Prompt").fill("a lighthouse on a cliff at dawn");
  await page.getByRole("button", { name: "Advanced" }).click();
  await page.getByLabel("Negative prompt").fill("blurry");
  // Big enough (a few seconds on the test model) that the page sees it running.
  await page.getByLabel("Width").fill("1024");
  await page.getByLabel("Height").fill("1024");
  await page.getByLabel("Steps").fill("50");
  await page.getByLabel("Seed").fill("1234");
  await page.getByRole("button", { name: "Generate" }).click();

  const job = page.getByTestId("job").first();
  await expect(job).toHaveAttribute("data-status", "succeeded", { timeout: 60_000 });
  const img = job.getByTestId("job-image");
  await expect(img).toBeVisible();
  const size = await img.evaluate((el: HTMLImageElement) => el.complete && [el.naturalWidth, el.naturalHeight]);
  expect(size).toEqual([1024, 1024]);
  expect(seen.has("queued") || seen.has("running")).toBe(true);
  expect(seen.has("running")).toBe(true);
  expect([...progress].some((t) => /^Step \d+ of 50$/.test(t))).toBe(true);
  await expect(job).toContainText("seed 1234");
  await expect(job).toContainText("Charged 8 credits"); // 4× the pixels of 512², 2× the 25 steps
  await expect(page.getByTestId("balance")).toHaveText("42 credits");
});

test("bad input gets a clear message naming the field and is not charged", async ({ page }) => {
  await signUp(page, uniqueEmail("bad"));
  await page.getByLabel("Prompt").fill("an odd size");
  await page.getByRole("button", { name: "Advanced" }).click();
  await page.getByLabel("Width").fill("100");
  await page.getByRole("button", { name: "Generate" }).click();
  await expect(page.locator(".error[role=alert]")).toContainText("width must be a multiple of 8");
  await expect(page.getByTestId("job")).toHaveCount(0);
  await page.reload();
  expect(await balance(page)).toBe(50);
});
