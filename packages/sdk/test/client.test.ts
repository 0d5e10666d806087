import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { claimJob, completeJob, createApiKey, recordProgress, signUp, type Platform } from "@lucid/core";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";
import { Lucid, LucidError, LucidTimeoutError, type Generation } from "../src/index.ts";

// The SDK against the real /api/v1 route handlers of apps/web, the real domain
// and a throwaway PostgreSQL + SQS/S3 emulator. Only Next's HTTP server is left
// out: `appFetch` hands each request to the route module the App Router would.
// The worker's part (claim, progress, complete) is played through the domain.
type Handler = (req: Request, ctx: { params: Promise<{ id: string }> }) => Promise<Response>;
type RouteModule = Partial<Record<string, Handler>>;
const API = "../../../apps/web/app/api/v1/generations";

let routes: Array<[RegExp, RouteModule]>;
async function appFetch(req: Request): Promise<Response> {
  const { pathname } = new URL(req.url);
  for (const [pattern, module] of routes) {
    const m = pattern.exec(pathname);
    const handler = m && module[req.method];
    if (handler) return handler(req, { params: Promise.resolve({ id: m[1] ?? "" }) });
  }
  return new Response("no such route", { status: 404 });
}

const tiny = (prompt: string) => ({ prompt, width: 64, height: 64, steps: 3, seed: 7 });

describe("@lucid/sdk against the real API routes", () => {
  let t: TestPlatform;
  let p: Platform;
  let lucid: Lucid;
  let workspaceId: string;

  const newClient = async (email: string) => {
    const user = await signUp(p, { email, password: "password123" });
    const { key } = await createApiKey(p, user.workspaceId, user.id, { name: "sdk test" });
    return { client: new Lucid({ apiKey: key, baseUrl: "http://lucid.test/", fetch: appFetch }), workspaceId: user.workspaceId };
  };
  /** Plays the worker: claims the job, reports each step, stores one image. */
  const run = async (id: string, afterEachChange: () => Promise<unknown> = async () => {}) => {
    assert.ok((await claimJob(p, id, "sdk-test-worker", 60_000)).claimed);
    await afterEachChange();
    for (const step of [1, 2, 3]) {
      assert.ok(await recordProgress(p, id, "sdk-test-worker", step, 3, 60_000));
      await afterEachChange();
    }
    assert.ok(await completeJob(p, id, "sdk-test-worker", [{ storageKey: `${workspaceId}/${id}/0.png`, width: 64, height: 64, seed: 7, contentType: "image/png" }]));
  };

  before(async () => {
    t = await startTestPlatform();
    p = t.platform;
    (globalThis as { lucidPlatform?: Platform }).lucidPlatform = p; // what apps/web/lib/platform.ts serves
    routes = [
      [/^\/api\/v1\/generations$/, await import(`${API}/route.ts`)],
      [/^\/api\/v1\/generations\/([^/]+)$/, await import(`${API}/[id]/route.ts`)],
      [/^\/api\/v1\/generations\/([^/]+)\/cancel$/, await import(`${API}/[id]/cancel/route.ts`)],
      [/^\/api\/v1\/generations\/([^/]+)\/events$/, await import(`${API}/[id]/events/route.ts`)],
    ];
    ({ client: lucid, workspaceId } = await newClient("sdk@example.com"));
  });
  after(async () => t?.stop());

  it("generates, gets, lists, and waits (polling) until the generation succeeds", async () => {
    const queued = await lucid.generate(tiny("a teapot from the SDK"));
    assert.equal(queued.object, "generation");
    assert.equal(queued.status, "queued");
    assert.equal(queued.credits_reserved, 1);
    assert.deepEqual({ ...queued.request }, { ...tiny("a teapot from the SDK"), negative_prompt: "", guidance: 7.5, n: 1, model: queued.request.model });

    assert.equal((await lucid.get(queued.id)).status, "queued");
    const page = await lucid.list({ limit: 5, status: "queued" });
    assert.ok(page.data.some((g) => g.id === queued.id));

    const waiting = lucid.wait(queued.id, { timeoutMs: 60_000 });
    await run(queued.id);
    const done = await waiting;
    assert.equal(done.status, "succeeded");
    assert.equal(done.credits_charged, 1);
    assert.deepEqual(done.images.map((i) => [i.width, i.height, i.seed]), [[64, 64, 7]]);
    assert.match(done.images[0]!.url, /^https?:\/\//);
  });

  it("streams every change as a Generation until the terminal one, then ends", async () => {
    const job = await lucid.generate(tiny("streamed through the SDK"));
    const events = lucid.stream(job.id);
    const next = async () => (await events.next()).value as Generation | undefined;

    const seen: Array<[string, number]> = [];
    const first = await next();
    seen.push([first!.status, first!.progress.step]);
    await run(job.id, async () => {
      const e = await next();
      seen.push([e!.status, e!.progress.step]);
    });
    const last = await next();
    seen.push([last!.status, last!.progress.step]);
    assert.deepEqual(seen, [["queued", 0], ["running", 0], ["running", 1], ["running", 2], ["running", 3], ["succeeded", 3]]);
    assert.equal(last!.images.length, 1);
    assert.equal((await events.next()).done, true, "the iterator ends with the stream");
  });

  it("generate with wait answers the finished generation (Prefer: wait)", async () => {
    const worker = (async () => {
      for (;;) {
        const job = await p.db.job.findFirst({ where: { workspaceId, status: "queued", request: { path: ["prompt"], equals: "waited on by the server" } } });
        if (job) return run(job.id);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const done = await lucid.generate(tiny("waited on by the server"), { wait: 30 });
    await worker;
    assert.equal(done.status, "succeeded");
    assert.equal(done.images.length, 1);
  });

  it("cancels: a queued generation at once (credits back), a running one at its next step, a finished one not at all", async () => {
    const job = await lucid.generate(tiny("never mind"));
    const result = await lucid.cancel(job.id);
    assert.equal(result.outcome, "canceled");
    assert.equal(result.generation.status, "canceled");
    assert.equal(result.generation.credits_released, 1);
    const again = await lucid.cancel(job.id);
    assert.deepEqual([again.outcome, again.generation.credits_released], ["canceled", 1], "canceling twice releases once");

    const running = await lucid.generate(tiny("stopped midway"));
    assert.ok((await claimJob(p, running.id, "sdk-test-worker", 60_000)).claimed);
    assert.equal((await lucid.cancel(running.id)).outcome, "cancellation_requested");

    const finished = await lucid.generate(tiny("done before the cancel"));
    await run(finished.id);
    assert.equal((await lucid.cancel(finished.id)).outcome, "already_finished");
  });

  it("an idempotency key makes a retried submit return the first generation instead of a second", async () => {
    const request = tiny("submitted twice over a flaky network");
    const first = await lucid.generate(request, { idempotencyKey: "sdk-retry-1" });
    const retry = await lucid.generate(request, { idempotencyKey: "sdk-retry-1" });
    assert.equal(retry.id, first.id);
    const reused = await lucid.generate(tiny("something else"), { idempotencyKey: "sdk-retry-1" }).then(() => null, (e: unknown) => e);
    assert.ok(reused instanceof LucidError);
    assert.deepEqual([reused.status, reused.code], [422, "idempotency_key_reused"]);
    await lucid.cancel(first.id, { idempotencyKey: "sdk-cancel-1" });
  });

  it("wait gives up with LucidTimeoutError while the generation stays queued", async () => {
    const job = await lucid.generate(tiny("nobody runs this"));
    await assert.rejects(lucid.wait(job.id, { timeoutMs: 300 }), (err: unknown) => {
      assert.ok(err instanceof LucidTimeoutError);
      assert.equal(err.generationId, job.id);
      return true;
    });
    await lucid.cancel(job.id);
  });

  it("error answers become LucidError with the problem JSON: 400 with fields, 401, 402, 404", async () => {
    const problem = async (call: Promise<unknown>) => {
      const err = await call.then(() => assert.fail("expected a LucidError"), (e: unknown) => e);
      assert.ok(err instanceof LucidError, String(err));
      return err;
    };
    const invalid = await problem(lucid.generate({ prompt: "x", steps: 500 }));
    assert.deepEqual([invalid.status, invalid.code], [400, "validation_failed"]);
    assert.deepEqual(invalid.errors, [{ field: "steps", message: "must be at most 50" }]);
    assert.equal(invalid.problem?.type, "https://lucid.dev/errors/validation_failed");

    const stranger = new Lucid({ apiKey: "lucid_sk_not-a-real-key", baseUrl: "http://lucid.test", fetch: appFetch });
    const refused = await problem(stranger.get("0b6a8e52-3f7c-4d6e-9a51-2f1d8c7b9e10"));
    assert.deepEqual([refused.status, refused.code], [401, "invalid_api_key"]);

    const missing = await problem(lucid.get("0b6a8e52-3f7c-4d6e-9a51-2f1d8c7b9e10"));
    assert.deepEqual([missing.status, missing.code], [404, "not_found"]);
    const missingStream = await problem(lucid.stream("0b6a8e52-3f7c-4d6e-9a51-2f1d8c7b9e10").next());
    assert.deepEqual([missingStream.status, missingStream.code], [404, "not_found"]);

    // 50 starter credits: a 32-credit job fits once, not twice.
    const { client: poor } = await newClient("poor@example.com");
    const big = { prompt: "expensive", width: 1024, height: 1024, steps: 50, n: 4 };
    await poor.generate(big);
    const broke = await problem(poor.generate(big));
    assert.deepEqual([broke.status, broke.code], [402, "insufficient_credits"]);
  });
});
