import { expect, test, type APIResponse, type Page } from "@playwright/test";
import { signUp, uniqueEmail } from "./helpers.ts";

async function createKey(page: Page): Promise<string> {
  await signUp(page, uniqueEmail("live"));
  await page.getByRole("link", { name: "API keys" }).click();
  await page.getByLabel("New key name").fill("live-api");
  await page.getByRole("button", { name: "Create key" }).click();
  return (await page.getByTestId("new-api-key").textContent())!.trim();
}

type Event = { id: number; event: string; data: { status: string; progress: { step: number; total: number }; images: unknown[]; queue_position: number | null } };

/** Reads a whole text/event-stream response into its events (the stream must end by itself). */
async function readEvents(res: Response): Promise<{ events: Event[]; comments: string[] }> {
  const events: Event[] = [];
  const comments: string[] = [];
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const lines = buffer.slice(0, end).split("\n");
      buffer = buffer.slice(end + 2);
      if (lines.every((l) => l.startsWith(":"))) {
        comments.push(lines.join("\n"));
        continue;
      }
      const field = (name: string) => lines.find((l) => l.startsWith(`${name}: `))!.slice(name.length + 2);
      events.push({ id: Number(field("id")), event: field("event"), data: JSON.parse(field("data")) });
    }
  }
  expect(buffer).toBe("");
  return { events, comments };
}

const RANK: Record<string, number> = { queued: 0, running: 1, succeeded: 2 };

test("a generation's event stream follows it from queued through its steps to succeeded, then ends", async ({ page, baseURL }) => {
  const key = await createKey(page);
  const auth = { authorization: `Bearer ${key}` };
  // Big enough (8 credits) that the test model runs for seconds: the 250 ms polling sees steps in progress.
  // (Every single step is pinned by the core test, which drives the job itself.)
  const submit = await fetch(`${baseURL}/api/v1/generations`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ prompt: "a streamed lighthouse", width: 1024, height: 1024, steps: 50, seed: 7 }),
  });
  expect(submit.status).toBe(202);
  const job = await submit.json();
  expect(job.queue_position).toEqual(expect.any(Number));

  const res = await fetch(`${baseURL}/api/v1/generations/${job.id}/events`, { headers: auth });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/event-stream");
  const { events } = await readEvents(res);

  expect(events.map((e) => e.id)).toEqual(events.map((_, i) => i + 1));
  expect(new Set(events.map((e) => e.event))).toEqual(new Set(["generation"]));
  const statuses = events.map((e) => e.data.status);
  expect(statuses).toEqual([...statuses].sort((a, b) => RANK[a]! - RANK[b]!)); // never goes back
  const steps = events.map((e) => e.data.progress.step);
  expect(steps).toEqual([...steps].sort((a, b) => a - b));
  const last = events.at(-1)!.data;
  expect(last.status).toBe("succeeded");
  expect(last.progress).toMatchObject({ step: 50, total: 50 });
  expect(last.images).toHaveLength(1);
  expect(last.queue_position).toBeNull();
  // Between the first event and the last there was a run with steps in progress.
  expect(events.some((e) => e.data.status === "running" && e.data.progress.step > 0 && e.data.progress.step < 50)).toBe(true);

  // A finished generation: one event, then the end. Another workspace, or no key: the usual errors.
  const again = await readEvents(await fetch(`${baseURL}/api/v1/generations/${job.id}/events`, { headers: auth }));
  expect(again.events.map((e) => [e.id, e.data.status])).toEqual([[1, "succeeded"]]);
  expect((await fetch(`${baseURL}/api/v1/generations/00000000-0000-4000-8000-000000000000/events`, { headers: auth })).status).toBe(404);
  const anonymous = await fetch(`${baseURL}/api/v1/generations/${job.id}/events`);
  expect(anonymous.status).toBe(401);
  expect(anonymous.headers.get("content-type")).toContain("application/problem+json");
});

test("Prefer: wait holds the answer until the generation is done; lists page and filter over HTTP", async ({ page, request }) => {
  const key = await createKey(page);
  const auth = { authorization: `Bearer ${key}` };
  const body = { prompt: "a patient teapot", width: 64, height: 64, steps: 3 };

  const waited = await request.post("/api/v1/generations", { headers: { ...auth, prefer: "wait=60" }, data: body, timeout: 70_000 });
  expect(waited.status()).toBe(200);
  expect(waited.headers()["preference-applied"]).toBe("wait=60");
  const done = await waited.json();
  expect(done.status).toBe("succeeded");
  expect(done.images).toHaveLength(1);
  expect((await request.get(done.images[0].url)).status()).toBe(200);

  for (const prefer of ["wait=61", "wait=soon"]) {
    const refused = await request.post("/api/v1/generations", { headers: { ...auth, prefer }, data: body });
    expect(refused.status()).toBe(400);
    expect((await refused.json()).errors).toEqual([{ field: "Prefer", message: expect.stringMatching(/^wait must be/) }]);
  }

  const second = await (await request.post("/api/v1/generations", { headers: { ...auth, prefer: "respond-async, wait=60" }, data: body, timeout: 70_000 })).json();
  expect(second.status).toBe("succeeded");

  // Exactly these two, newest first: the refused Prefer headers created no job.
  const ids: string[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 5; i++) {
    const res: APIResponse = await request.get(`/api/v1/generations?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, { headers: auth });
    expect(res.status()).toBe(200);
    const pageBody: { object: string; data: Array<{ id: string }>; next_cursor: string | null } = await res.json();
    expect(pageBody.object).toBe("list");
    ids.push(...pageBody.data.map((g) => g.id));
    cursor = pageBody.next_cursor;
    if (!cursor) break;
  }
  expect(ids).toEqual([second.id, done.id]);

  const succeeded = await (await request.get("/api/v1/generations?status=succeeded", { headers: auth })).json();
  expect(succeeded.data.map((g: { id: string }) => g.id)).toEqual([second.id, done.id]);
  expect(succeeded.next_cursor).toBeNull();
  for (const status of ["queued", "running", "failed", "canceled"]) {
    const none = await (await request.get(`/api/v1/generations?status=${status}&limit=100`, { headers: auth })).json();
    expect(none).toEqual({ object: "list", data: [], next_cursor: null });
  }

  const bad = await request.get("/api/v1/generations?status=finished&limit=500", { headers: auth });
  expect(bad.status()).toBe(400);
  expect(bad.headers()["content-type"]).toContain("application/problem+json");
  const problem = await bad.json();
  expect(problem.code).toBe("validation_failed");
  expect(problem.errors.map((e: { field: string }) => e.field).sort()).toEqual(["limit", "status"]);
});
