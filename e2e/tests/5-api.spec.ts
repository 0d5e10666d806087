import { expect, test } from "@playwright/test";
import { signUp, uniqueEmail } from "./helpers.ts";

test("a developer creates an API key, generates through the API, and a revoked key stops working", async ({ page, request, browser }) => {
  await signUp(page, uniqueEmail("dev"));
  await page.getByRole("link", { name: "API keys" }).click();
  await page.getByLabel("New key name").fill("my-app");
  await page.getByRole("button", { name: "Create key" }).click();
  const key = (await page.getByTestId("new-api-key").textContent())!.trim();
  expect(key).toMatch(/^lucid_sk_/);
  await page.reload();
  await expect(page.getByTestId("new-api-key")).toHaveCount(0); // shown once
  await expect(page.getByTestId("api-key-row")).toContainText("my-app");

  const auth = { authorization: `Bearer ${key}` };
  const health = await request.get("/api/health");
  expect(health.status()).toBe(200);
  expect(await health.json()).toEqual({ ok: true, database: "ok", queue: "ok", storage: "ok" });
  const submit = await request.post("/api/v1/generations", {
    headers: auth,
    data: { prompt: "an API-made teapot", negative_prompt: "", width: 64, height: 96, steps: 3, guidance: 5, seed: 42, n: 2 },
  });
  expect(submit.status()).toBe(202);
  const job = await submit.json();
  expect(job.status).toBe("queued");
  expect(job.credits_reserved).toBe(2);

  let current = job;
  for (let i = 0; i < 240 && !["succeeded", "failed", "canceled"].includes(current.status); i++) {
    await new Promise((r) => setTimeout(r, 250));
    current = await (await request.get(`/api/v1/generations/${job.id}`, { headers: auth })).json();
  }
  expect(current.status).toBe("succeeded");
  expect(current.credits_charged).toBe(2);
  expect(current.credits_released).toBe(0);
  expect(current.images).toHaveLength(2);
  expect(current.images.map((i: { seed: number }) => i.seed)).toEqual([42, 43]);
  for (const img of current.images) {
    expect([img.width, img.height]).toEqual([64, 96]);
    const res = await request.get(img.url);
    expect(res.status()).toBe(200);
    expect((await res.body()).subarray(1, 4).toString()).toBe("PNG");
  }

  // Bad input: 400 problem JSON naming the field, nothing charged.
  const bad = await request.post("/api/v1/generations", { headers: auth, data: { prompt: "x", steps: 500 } });
  expect(bad.status()).toBe(400);
  const problem = await bad.json();
  expect(bad.headers()["content-type"]).toContain("application/problem+json");
  expect(problem.code).toBe("validation_failed");
  expect(problem.errors).toContainEqual({ field: "steps", message: "must be at most 50" });

  // Another workspace's job is not found.
  const other = await browser.newPage();
  await signUp(other, uniqueEmail("other-dev"));
  expect((await other.request.get(`/api/v1/generations/${job.id}`)).status()).toBe(404);
  await other.close();

  // Revoke: the key is refused with 401.
  await page.getByRole("button", { name: "Revoke" }).click();
  await expect(page.getByTestId("api-key-row")).toContainText("revoked");
  const refused = await request.get(`/api/v1/generations/${job.id}`, { headers: auth });
  expect(refused.status()).toBe(401);
  expect((await refused.json()).code).toBe("api_key_revoked");
  expect((await request.post("/api/v1/generations", { headers: { authorization: "Bearer lucid_sk_unknown" }, data: { prompt: "x" } })).status()).toBe(401);
});
