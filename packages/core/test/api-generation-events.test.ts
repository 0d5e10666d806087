import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  claimJob,
  completeJob,
  failJob,
  generationEventStream,
  recordProgress,
  signUp,
  submitGeneration,
  toGeneration,
  waitForJobEnd,
  type Platform,
} from "@lucid/core";
import type { Generation } from "@lucid/contracts";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";

type Block = { comment: string } | { id: number; event: string; data: Generation };

/** Reads a text/event-stream one block (event or comment) at a time; null at the end of the stream. */
function sseReader(stream: ReadableStream<Uint8Array>) {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  return {
    reader,
    async next(): Promise<Block | null> {
      for (;;) {
        const end = buffer.indexOf("\n\n");
        if (end >= 0) {
          const lines = buffer.slice(0, end).split("\n");
          buffer = buffer.slice(end + 2);
          if (lines.every((l) => l.startsWith(":"))) return { comment: lines.map((l) => l.slice(1).trim()).join("\n") };
          const field = (name: string) => lines.find((l) => l.startsWith(`${name}: `))?.slice(name.length + 2);
          return { id: Number(field("id")), event: field("event")!, data: JSON.parse(field("data")!) };
        }
        const { value, done } = await reader.read();
        if (done) {
          assert.equal(buffer, "", "the stream ends on a block boundary");
          return null;
        }
        buffer += decoder.decode(value, { stream: true });
      }
    },
    /** The next event, skipping keep-alive comments. */
    async nextEvent(): Promise<{ id: number; event: string; data: Generation } | null> {
      for (;;) {
        const b = await this.next();
        if (!b || !("comment" in b)) return b;
      }
    },
  };
}

const tiny = (prompt: string) => ({ prompt, width: 64, height: 64, steps: 3 });

describe("following a generation: event stream and waiting for its end", () => {
  let t: TestPlatform;
  let p: Platform;
  let workspaceId: string;
  before(async () => {
    t = await startTestPlatform();
    p = t.platform;
    workspaceId = (await signUp(p, { email: "watcher@example.com", password: "password123" })).workspaceId;
  });
  after(async () => t?.stop());

  const render = (job: Parameters<typeof toGeneration>[0]) => toGeneration(job, (img) => `/images/${img.id}`, p);
  const stream = (jobId: string, extra: { signal?: AbortSignal; keepAliveMs?: number } = {}) =>
    sseReader(generationEventStream(p, workspaceId, jobId, { render, pollMs: 10, keepAliveMs: extra.keepAliveMs ?? 60_000, signal: extra.signal }));

  it("sends queued, keep-alives while idle, running, every progress step, then the succeeded object, and ends", async () => {
    const job = await submitGeneration(p, { workspaceId, source: "api" }, tiny("streamed"));
    const sse = stream(job.id, { keepAliveMs: 20 });

    const queued = await sse.nextEvent();
    assert.deepEqual([queued?.id, queued?.event, queued?.data.status, queued?.data.queue_position], [1, "generation", "queued", 0]);
    // Nothing changes until a worker claims it: the stream only keeps itself alive.
    assert.deepEqual(await sse.next(), { comment: "keep-alive" });

    assert.ok((await claimJob(p, job.id, "w1", 60_000)).claimed);
    const running = await sse.nextEvent();
    assert.deepEqual([running?.id, running?.data.status, running?.data.progress.step, running?.data.queue_position], [2, "running", 0, null]);
    for (const step of [1, 2, 3]) {
      assert.ok(await recordProgress(p, job.id, "w1", step, 3, 60_000));
      const e = await sse.nextEvent();
      assert.deepEqual([e?.id, e?.data.status, e?.data.progress], [2 + step, "running", { step, total: 3, preview_url: null }]);
    }
    assert.ok(await completeJob(p, job.id, "w1", [{ storageKey: `${workspaceId}/${job.id}/0.png`, width: 64, height: 64, seed: 5, contentType: "image/png" }]));
    const done = await sse.nextEvent();
    assert.equal(done?.id, 6);
    assert.equal(done?.data.status, "succeeded");
    assert.equal(done?.data.images.length, 1);
    assert.equal(await sse.nextEvent(), null, "the stream ends after the terminal object");
  });

  it("sends a finished job once and ends", async () => {
    const job = await submitGeneration(p, { workspaceId, source: "api" }, tiny("already failed"));
    assert.ok(await failJob(p, job.id, { code: "generation_failed", message: "boom" }));
    const sse = stream(job.id);
    const only = await sse.nextEvent();
    assert.deepEqual([only?.id, only?.data.status, only?.data.error], [1, "failed", { code: "generation_failed", message: "boom" }]);
    assert.equal(await sse.nextEvent(), null);
  });

  it("stops when the client goes away (request aborted or reader canceled)", async () => {
    const job = await submitGeneration(p, { workspaceId, source: "api" }, tiny("abandoned"));
    const gone = new AbortController();
    const sse = stream(job.id, { signal: gone.signal, keepAliveMs: 20 });
    assert.equal((await sse.nextEvent())?.data.status, "queued");
    gone.abort();
    // Whatever keep-alives were already queued drain, then the stream is closed.
    let block = await sse.next();
    while (block && "comment" in block) block = await sse.next();
    assert.equal(block, null);

    const other = stream(job.id);
    assert.equal((await other.nextEvent())?.data.status, "queued");
    await other.reader.cancel();
    assert.equal((await other.reader.read()).done, true);
  });

  it("waits for the end of a job, or returns it unfinished when the time is up", async () => {
    const job = await submitGeneration(p, { workspaceId, source: "api" }, tiny("awaited"));
    const early = await waitForJobEnd(p, workspaceId, job.id, { timeoutMs: 30, pollMs: 10 });
    assert.equal(early?.status, "queued", "time up: still queued");

    const waiting = waitForJobEnd(p, workspaceId, job.id, { timeoutMs: 60_000, pollMs: 10 });
    assert.ok((await claimJob(p, job.id, "w1", 60_000)).claimed);
    assert.ok(await completeJob(p, job.id, "w1", [{ storageKey: `${workspaceId}/${job.id}/0.png`, width: 64, height: 64, seed: 9, contentType: "image/png" }]));
    const done = await waiting;
    assert.equal(done?.status, "succeeded");
    assert.equal(done?.images.length, 1);

    const aborted = new AbortController();
    const other = await submitGeneration(p, { workspaceId, source: "api" }, tiny("caller hangs up"));
    const pending = waitForJobEnd(p, workspaceId, other.id, { timeoutMs: 60_000, pollMs: 10, signal: aborted.signal });
    aborted.abort();
    assert.equal((await pending)?.status, "queued", "an aborted wait returns the job as it is");
  });
});
