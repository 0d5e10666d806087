import { expect, type Page } from "@playwright/test";

let counter = 0;
export const uniqueEmail = (tag: string) => `${tag}-${Date.now()}-${counter++}@example.com`;

export async function signUp(page: Page, email: string, password = "correct horse battery") {
  await page.goto("/signup");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign up" }).click();
  await expect(page).toHaveURL(/\/studio$/);
}

export async function balance(page: Page): Promise<number> {
  const text = await page.getByTestId("balance").textContent();
  return Number(/(-?\d+)/.exec(text ?? "")?.[1]);
}

/** Submits a prompt in the studio (small and quick on the test model) and waits for the image. */
export async function generate(page: Page, prompt: string, opts: { width?: number; height?: number; steps?: number } = {}) {
  await page.goto("/studio");
  await page.getByLabel("Prompt").fill(prompt);
  await page.getByRole("button", { name: "Advanced" }).click();
  await page.getByLabel("Width").fill(String(opts.width ?? 128));
  await page.getByLabel("Height").fill(String(opts.height ?? 128));
  await page.getByLabel("Steps").fill(String(opts.steps ?? 4));
  await page.getByRole("button", { name: "Generate" }).click();
  const job = page.getByTestId("job").filter({ hasText: prompt }).first();
  await expect(job).toHaveAttribute("data-status", "succeeded", { timeout: 60_000 });
  return job;
}
