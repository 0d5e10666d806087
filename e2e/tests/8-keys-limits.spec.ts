import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test, type APIResponse, type Page } from "@playwright/test";
import { signUp, uniqueEmail } from "./helpers.ts";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Creates a key on /settings/keys, leaving out the scopes named; returns the key shown once. */
async function createKey(page: Page, name: string, withoutScopes: string[] = []) {
  await page.goto("/settings/keys");
  await page.getByLabel("New key name").fill(name);
  for (const scope of withoutScopes) await page.getByRole("checkbox", { name: scope }).uncheck();
  await page.getByRole("button", { name: "Create key" }).click();
  const key = (await page.getByTestId("new-api-key").textContent())!.trim();
  expect(key).toMatch(/^lucid_sk_/);
  return key;
}

function expectRateLimitHeaders(res: APIResponse) {
  const h = res.headers();
  expect(Number(h["ratelimit-limit"])).toBeGreaterThan(0);
  expect(Number(h["ratelimit-remaining"])).toBeGreaterThanOrEqual(0);
  expect(Number(h["ratelimit-reset"])).toBeGreaterThan(0);
}

const small = (prompt: string) => ({ prompt, width: 64, height: 64, steps: 2, seed: 5 });

test("a key made without generations:write may read but not submit (403 naming the scope); answers carry RateLimit headers", async ({ page, request }) => {
  await signUp(page, uniqueEmail("scoped"));
  const key = await createKey(page, "read-only", ["generations:write"]);
  await page.reload();
  const row = page.getByTestId("api-key-row").filter({ hasText: "read-only" });
  await expect(row.getByTestId("api-key-scopes")).toHaveText("generations:read, images:read");
  const auth = { authorization: `Bearer ${key}` };

  const submit = await request.post("/api/v1/generations", { headers: auth, data: small("not allowed") });
  expect(submit.status()).toBe(403);
  const problem = await submit.json();
  expect(problem.code).toBe("insufficient_scope");
  expect(problem.detail).toContain("generations:write");
  expectRateLimitHeaders(submit);

  const list = await request.get("/api/v1/generations", { headers: auth });
  expect(list.status()).toBe(200);
  expectRateLimitHeaders(list);
  expect(Number(list.headers()["ratelimit-limit"])).toBe(60); // the free plan
  expect(Number(list.headers()["ratelimit-remaining"])).toBeLessThan(Number(submit.headers()["ratelimit-remaining"]));
});

test("Idempotency-Key: a retry replays the first answer, other parameters are refused, concurrent retries make one job", async ({ page, request }) => {
  await signUp(page, uniqueEmail("idem"));
  const auth = { authorization: `Bearer ${await createKey(page, "retries")}` };
  const post = (key: string, data: object) => request.post("/api/v1/generations", { headers: { ...auth, "idempotency-key": key }, data });

  const first = await post("order-1", small("idempotent teapot"));
  expect(first.status()).toBe(202);
  expect(first.headers()["idempotent-replayed"]).toBeUndefined();
  const replay = await post("order-1", small("idempotent teapot"));
  expect(replay.status()).toBe(202);
  expect(replay.headers()["idempotent-replayed"]).toBe("true");
  expect(replay.headers()["location"]).toBe(first.headers()["location"]);
  expect((await replay.json()).id).toBe((await first.json()).id);

  const reused = await post("order-1", small("another teapot"));
  expect(reused.status()).toBe(422);
  expect((await reused.json()).code).toBe("idempotency_key_reused");

  // A request that fails validation keeps nothing: the corrected retry with the same key runs.
  const invalid = await post("order-2", { prompt: "x", steps: 500 });
  expect(invalid.status()).toBe(400);
  const corrected = await post("order-2", small("corrected teapot"));
  expect(corrected.status()).toBe(202);

  const storm = await Promise.all(Array.from({ length: 10 }, () => post("order-3", small("stormy teapot"))));
  const statuses = storm.map((r) => r.status());
  for (const s of statuses) expect([202, 409]).toContain(s);
  const ids = new Set(await Promise.all(storm.filter((r) => r.status() === 202).map(async (r) => (await r.json()).id)));
  expect(ids.size).toBe(1);
  for (const r of storm.filter((r) => r.status() === 409)) expect((await r.json()).code).toBe("idempotency_request_in_progress");
  const all = await (await request.get("/api/v1/generations?limit=100", { headers: auth })).json();
  expect(all.data.filter((g: { request: { prompt: string } }) => g.request.prompt === "stormy teapot")).toHaveLength(1);
});

test("past the plan's request rate a key gets 429 rate_limited with Retry-After", async ({ page, request }) => {
  const email = uniqueEmail("limited");
  await signUp(page, email);
  const auth = { authorization: `Bearer ${await createKey(page, "busy")}` };
  // The operator puts the workspace on the e2e plan (5 requests per minute), which e2e/run.ts configures.
  const out = execFileSync(process.execPath, ["--import", "tsx", "apps/cli/src/main.ts", "plans:set", "--email", email, "--plan", "e2e-tiny"], {
    cwd: REPO_ROOT,
    env: { ...process.env, LUCID_DATA_DIR: process.env.LUCID_E2E_DATA_DIR },
    encoding: "utf8",
  });
  expect(out).toContain('plan "e2e-tiny"');

  const remaining: number[] = [];
  let refused: APIResponse | undefined;
  for (let i = 0; i < 10 && !refused; i++) {
    const res = await request.get("/api/v1/ping", { headers: auth });
    if (res.status() === 429) refused = res;
    else {
      expect(res.status()).toBe(200);
      expect(res.headers()["ratelimit-limit"]).toBe("5");
      remaining.push(Number(res.headers()["ratelimit-remaining"]));
    }
  }
  expect(remaining).toEqual([4, 3, 2, 1, 0]);
  expect(refused).toBeDefined();
  expect((await refused!.json()).code).toBe("rate_limited");
  expect(Number(refused!.headers()["retry-after"])).toBeGreaterThanOrEqual(1);
  expect(refused!.headers()["ratelimit-remaining"]).toBe("0");
});
