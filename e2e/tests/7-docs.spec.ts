import { expect, test } from "@playwright/test";

test("the API reference renders the published document offline, with curl, TypeScript and Python samples", async ({ page, baseURL, request }) => {
  const origin = new URL(baseURL!).origin;
  // The samples name the server's public URL (what the document lists as its server).
  const publicOrigin = new URL(((await (await request.get("/api/v1/openapi.json")).json()) as { servers: Array<{ url: string }> }).servers[0]!.url).origin;
  const foreignAssets: string[] = [];
  page.on("request", (req) => {
    // Scripts, styles, fonts and fetches must come from the app (bundled from npm) or be local blobs, never a CDN.
    if (["script", "stylesheet", "font", "fetch", "xhr"].includes(req.resourceType()) && ![origin, publicOrigin].includes(new URL(req.url()).origin)) foreignAssets.push(req.url());
  });
  const errors: string[] = [];
  page.on("pageerror", (err) => errors.push(String(err)));

  await page.goto("/docs");
  await expect(page).toHaveURL(/\/docs\/api$/);
  await expect(page.getByRole("heading", { name: "Lucid API reference" })).toBeVisible();
  await expect(page.getByRole("link", { name: "/api/v1/openapi.json" })).toHaveAttribute("href", "/api/v1/openapi.json");
  // Redoc, in the browser: every operation of the document, with its code samples.
  const reference = page.getByTestId("api-reference");
  for (const summary of ["Submit a generation", "Get a generation", "List generations", "Cancel a generation", "Stream a generation's events (SSE)", "Create images (OpenAI-compatible)", "Check a key", "Download an image", "Generation event"]) {
    await expect(reference.getByRole("heading", { name: summary }).first()).toBeAttached();
  }
  // The quickstart in curl, TypeScript (the SDK) and Python, and the error codes.
  await expect(reference.getByText(`curl -s -X POST ${publicOrigin}/api/v1/generations`).first()).toBeVisible();
  await expect(reference.getByText("await lucid.wait(queued.id", { exact: false }).first()).toBeAttached();
  await expect(reference.getByText("import os, time, requests").first()).toBeAttached();
  await expect(reference.getByRole("cell", { name: "insufficient_credits" }).first()).toBeAttached();
  // Each operation's samples, one tab per language.
  const submit = reference.locator("[data-section-id$='operation/createGeneration']");
  await submit.getByRole("tab", { name: "TypeScript (@lucid/sdk)" }).click();
  await expect(submit.getByText("await lucid.generate(")).toBeVisible();
  await submit.getByRole("tab", { name: "Python (requests)" }).click();
  await expect(submit.getByText("requests.post(")).toBeVisible();
  expect(foreignAssets).toEqual([]);
  expect(errors).toEqual([]);
});
