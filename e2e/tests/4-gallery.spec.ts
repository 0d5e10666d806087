import { expect, test } from "@playwright/test";
import { generate, signUp, uniqueEmail } from "./helpers.ts";

test("publishing puts an image in the public gallery; unpublishing takes it out; private images stay private", async ({ page, browser }) => {
  await signUp(page, uniqueEmail("artist"));
  const prompt = `a red fox in snow ${Date.now()}`;
  const job = await generate(page, prompt);
  const src = await job.getByTestId("job-image").getAttribute("src");
  const imageId = src!.split("/").pop()!;

  // Private: a visitor gets nothing by id or by URL.
  const visitor = await browser.newContext();
  const anon = await visitor.newPage();
  expect((await anon.request.get(`/images/${imageId}`)).status()).toBe(404);
  expect((await anon.goto(`/gallery/${imageId}`))!.status()).toBe(404);

  await job.getByRole("button", { name: "Publish" }).click();
  await expect(job.getByRole("button", { name: "Unpublish" })).toBeVisible();

  await anon.goto("/gallery");
  const item = anon.getByTestId("gallery-item").first();
  await expect(item).toHaveAttribute("href", `/gallery/${imageId}`);
  await item.click();
  await expect(anon.getByTestId("gallery-prompt")).toHaveText(prompt);
  await expect(anon.getByText("128×128")).toBeVisible();
  expect((await anon.request.get(`/images/${imageId}`)).headers()["content-type"]).toBe("image/png");

  await job.getByRole("button", { name: "Unpublish" }).click();
  await expect(job.getByRole("button", { name: "Publish" })).toBeVisible();
  // A fresh page load each time: the visitor sees the gallery as the server has it now.
  await expect
    .poll(async () => {
      await anon.goto("/gallery");
      return anon.locator(`a[href="/gallery/${imageId}"]`).count();
    })
    .toBe(0);
  expect((await anon.request.get(`/images/${imageId}`)).status()).toBe(404);

  // Another signed-in user cannot reach it either.
  const other = await browser.newContext();
  const otherPage = await other.newPage();
  await signUp(otherPage, uniqueEmail("other"));
  expect((await otherPage.request.get(`/images/${imageId}`)).status()).toBe(404);
  await visitor.close();
  await other.close();
});
