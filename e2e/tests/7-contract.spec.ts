import { expect, test, type Page } from "@playwright/test";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { Lucid, LucidError, type Generation } from "@lucid/sdk";
import { signUp, uniqueEmail } from "./helpers.ts";

// Every answer the API gives here is checked against the OpenAPI document the
// server itself publishes: its status must be documented for that path and
// method, its content type too, and its body must validate against the
// documented schema (JSON Schema 2020-12, OpenAPI 3.1's dialect).

type OpenApi = {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, { schema: object }>; headers?: Record<string, { required?: boolean }> }> }>>;
};

const BASE = process.env.LUCID_E2E_BASE_URL!;
const NO_SUCH_ID = "0b6a8e52-3f7c-4d6e-9a51-2f1d8c7b9e10";
const TERMINAL = ["succeeded", "failed", "canceled"];

class Contract {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();
  /** "METHOD path status" of every answer checked. */
  readonly seen: string[] = [];

  constructor(readonly document: OpenApi) {
    addFormats.default(this.ajv);
    this.ajv.addFormat("binary", true);
    this.ajv.addSchema(document as object, "lucid-openapi.json");
  }

  private validator(pointer: string): ValidateFunction {
    let v = this.compiled.get(pointer);
    if (!v) this.compiled.set(pointer, (v = this.ajv.compile({ $ref: `lucid-openapi.json#${pointer}` })));
    return v;
  }

  /** Asserts one answer is what the document says `method path` may answer. */
  check(method: string, path: string, status: number, contentType: string, body: unknown, headers?: Headers): void {
    const where = `${method} ${path} → ${status}`;
    const op = this.document.paths[path]?.[method.toLowerCase()];
    expect(op, `${method} ${path} is in the document`).toBeTruthy();
    const response = op!.responses[String(status)];
    expect(response, `${where} is a documented status`).toBeTruthy();
    expect(Object.keys(response!.content ?? {}), `${where} content type`).toContain(contentType);
    for (const [name, header] of Object.entries(response!.headers ?? {})) {
      if (header.required && headers) expect(headers.get(name), `${where} header ${name}`).not.toBeNull();
    }
    if (contentType.endsWith("json")) {
      const esc = (s: string) => s.replaceAll("~", "~0").replaceAll("/", "~1");
      const validate = this.validator(`/paths/${esc(path)}/${method.toLowerCase()}/responses/${status}/content/${esc(contentType)}/schema`);
      const valid = validate(body);
      expect(valid ? [] : validate.errors!.map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`), `${where} body matches its schema: ${JSON.stringify(body).slice(0, 400)}`).toEqual([]);
    }
    this.seen.push(`${method} ${path} ${status}`);
  }

  /** Calls the API with fetch and checks the answer; returns status and parsed body. */
  async call(method: string, path: string, url: string, init: { key?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...init.headers };
    if (init.key) headers.authorization = `Bearer ${init.key}`;
    if (init.body !== undefined || init.rawBody !== undefined) headers["content-type"] = "application/json";
    const res = await fetch(`${BASE}${url}`, { method, headers, body: init.rawBody ?? (init.body === undefined ? undefined : JSON.stringify(init.body)) });
    const contentType = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
    const text = await res.text();
    const body = contentType.endsWith("json") ? JSON.parse(text) : text;
    this.check(method, path, res.status, contentType, body, res.headers);
    return { status: res.status, body, headers: res.headers };
  }

  /** Checks a value against a named component schema (for what the SDK returns). */
  conforms(component: string, value: unknown): void {
    const validate = this.validator(`/components/schemas/${component}`);
    expect(validate(value) ? [] : validate.errors, `${component}: ${JSON.stringify(value).slice(0, 300)}`).toEqual([]);
  }
}

async function loadContract(): Promise<Contract> {
  const res = await fetch(`${BASE}/api/v1/openapi.json`); // public: no key
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("application/json");
  const document = (await res.json()) as OpenApi;
  expect(document.openapi).toBe("3.1.0");
  const contract = new Contract(document);
  contract.check("GET", "/api/v1/openapi.json", 200, "application/json", document, res.headers);
  return contract;
}

async function createKey(page: Page, tag: string): Promise<string> {
  await signUp(page, uniqueEmail(tag));
  await page.getByRole("link", { name: "API keys" }).click();
  await page.getByLabel("New key name").fill(`${tag}-key`);
  await page.getByRole("button", { name: "Create key" }).click();
  const key = (await page.getByTestId("new-api-key").textContent())!.trim();
  expect(key).toMatch(/^lucid_sk_/);
  return key;
}

const small = (prompt: string, extra: Record<string, unknown> = {}) => ({ prompt, width: 64, height: 64, steps: 3, seed: 5, ...extra });

test("every API answer matches the published OpenAPI document", async ({ page }) => {
  test.setTimeout(180_000);
  const api = await loadContract();
  const key = await createKey(page, "contract");
  const G = "/api/v1/generations";
  const ONE = "/api/v1/generations/{id}";

  // Submit, get, and list (with its filters).
  const submitted = await api.call("POST", G, G, { key, body: small("a contract-checked teapot") });
  expect(submitted.status).toBe(202);
  expect(submitted.headers.get("location")).toBe(`${G}/${submitted.body.id}`);
  const id: string = submitted.body.id;
  expect((await api.call("GET", ONE, `${G}/${id}`, { key })).status).toBe(200);
  const list = await api.call("GET", G, `${G}?limit=5`, { key });
  expect(list.body.data.map((g: Generation) => g.id)).toContain(id);
  expect((await api.call("GET", G, `${G}?status=failed`, { key })).body.data).toEqual([]);

  // Prefer: wait=N answers the finished generation (200) with Preference-Applied.
  const waited = await api.call("POST", G, G, { key, body: small("a waited-for teapot"), headers: { prefer: "wait=50" } });
  expect(waited.status).toBe(200);
  expect(waited.body.status).toBe("succeeded");
  expect(waited.headers.get("preference-applied")).toBe("wait=50");

  // The image itself, through the app.
  const image = await fetch(`${BASE}/api/v1/images/${waited.body.images[0].id}`, { headers: { authorization: `Bearer ${key}` } });
  api.check("GET", "/api/v1/images/{id}", image.status, image.headers.get("content-type") ?? "", null, image.headers);
  expect(Buffer.from(await image.arrayBuffer()).subarray(1, 4).toString()).toBe("PNG");

  // Idempotency-Key: a retry replays the first answer; the same key with another body is refused.
  const once = await api.call("POST", G, G, { key, body: small("an idempotent teapot"), headers: { "idempotency-key": `e2e-${id}` } });
  const again = await api.call("POST", G, G, { key, body: small("an idempotent teapot"), headers: { "idempotency-key": `e2e-${id}` } });
  expect([again.status, again.body.id, again.headers.get("idempotent-replayed")]).toEqual([once.status, once.body.id, "true"]);
  const reused = await api.call("POST", G, G, { key, body: small("another teapot"), headers: { "idempotency-key": `e2e-${id}` } });
  expect([reused.status, reused.body.code]).toEqual([422, "idempotency_key_reused"]);

  // A key check, with the key's rate-limit headers.
  const ping = await api.call("GET", "/api/v1/ping", "/api/v1/ping", { key });
  expect(ping.body.ok).toBe(true);
  expect(Number(ping.headers.get("ratelimit-limit"))).toBeGreaterThan(0);

  // The event stream: each event's data is a documented Generation, ending with the terminal one.
  const stream = await fetch(`${BASE}${G}/${id}/events`, { headers: { authorization: `Bearer ${key}` } });
  const sse = await stream.text();
  api.check("GET", `${ONE}/events`, stream.status, (stream.headers.get("content-type") ?? "").split(";")[0]!, sse);
  const events = sse.split("\n\n").filter((block) => block.includes("event: generation"));
  expect(events.length).toBeGreaterThan(0);
  const last = events.map((block) => JSON.parse(/^data: (.*)$/m.exec(block)![1]!) as Generation).map((g) => (api.conforms("Generation", g), g)).at(-1)!;
  expect(TERMINAL).toContain(last.status);

  // Cancel: whatever the worker got to first, the answer is a documented one.
  const victim = await api.call("POST", G, G, { key, body: small("a canceled teapot", { steps: 20 }) });
  const canceled = await api.call("POST", `${ONE}/cancel`, `${G}/${victim.body.id}/cancel`, { key });
  expect(["canceled", "cancellation_requested", "already_finished"]).toContain(canceled.body.outcome);
  expect(canceled.body.generation.id).toBe(victim.body.id);

  // 400s: a bad field, a body that is not JSON, a bad list query, a bad Prefer.
  const invalid = await api.call("POST", G, G, { key, body: { prompt: "x", steps: 500 } });
  expect([invalid.status, invalid.body.code]).toEqual([400, "validation_failed"]);
  expect(invalid.body.errors).toContainEqual({ field: "steps", message: "must be at most 50" });
  const notJson = await api.call("POST", G, G, { key, rawBody: "{not json" });
  expect([notJson.status, notJson.body.code]).toEqual([400, "invalid_json"]);
  const badQuery = await api.call("GET", G, `${G}?limit=0`, { key });
  expect([badQuery.status, badQuery.body.code]).toEqual([400, "validation_failed"]);
  const badPrefer = await api.call("POST", G, G, { key, body: small("x"), headers: { prefer: "wait=soon" } });
  expect([badPrefer.status, badPrefer.body.code]).toEqual([400, "validation_failed"]);

  // 401s: no key at all, an unknown key.
  const anonymous = await api.call("GET", ONE, `${G}/${id}`);
  expect([anonymous.status, anonymous.body.code]).toEqual([401, "unauthenticated"]);
  const unknownKey = await api.call("POST", G, G, { key: "lucid_sk_unknown", body: small("x") });
  expect([unknownKey.status, unknownKey.body.code]).toEqual([401, "invalid_api_key"]);

  // 404s: no such generation, for get, cancel and events.
  for (const [path, method, url] of [[ONE, "GET", `${G}/${NO_SUCH_ID}`], [`${ONE}/cancel`, "POST", `${G}/${NO_SUCH_ID}/cancel`], [`${ONE}/events`, "GET", `${G}/${NO_SUCH_ID}/events`]] as const) {
    const missing = await api.call(method, path, url, { key });
    expect([missing.status, missing.body.code]).toEqual([404, "not_found"]);
  }

  // 402: 50 starter credits hold one 32-credit request, not two.
  const big = { prompt: "an expensive teapot", width: 1024, height: 1024, steps: 50, n: 4 };
  const first = await api.call("POST", G, G, { key, body: big });
  expect(first.status).toBe(202);
  const broke = await api.call("POST", G, G, { key, body: big });
  expect([broke.status, broke.body.code]).toEqual([402, "insufficient_credits"]);
  await api.call("POST", `${ONE}/cancel`, `${G}/${first.body.id}/cancel`, { key });

  // The OpenAI-compatible endpoint: its own documented shapes.
  const openai = await api.call("POST", "/api/v1/images/generations", "/api/v1/images/generations", { key, body: { prompt: "an OpenAI-shaped teapot", size: "64x64" } });
  expect(openai.status).toBe(200);
  const openaiBad = await api.call("POST", "/api/v1/images/generations", "/api/v1/images/generations", { key, body: { prompt: "x", n: 9 } });
  expect(openaiBad.status).toBe(400);

  const statuses = new Set(api.seen.map((s) => s.split(" ").at(-1)));
  expect([...statuses].sort()).toEqual(["200", "202", "400", "401", "402", "404", "422"]);
});

test("the SDK generates, waits, streams and reports errors against the real platform", async ({ page }) => {
  test.setTimeout(180_000);
  const api = await loadContract();
  const lucid = new Lucid({ apiKey: await createKey(page, "sdk"), baseUrl: BASE });

  const queued = await lucid.generate(small("an SDK teapot", { n: 2, seed: 100 }));
  api.conforms("Generation", queued);
  expect(queued.status).toBe("queued");
  const done = await lucid.wait(queued.id, { timeoutMs: 120_000 });
  api.conforms("Generation", done);
  expect(done.status).toBe("succeeded");
  expect(done.images.map((i) => i.seed)).toEqual([100, 101]);
  for (const image of done.images) {
    const png = await fetch(image.url);
    expect(png.status).toBe(200);
    expect(Buffer.from(await png.arrayBuffer()).subarray(1, 4).toString()).toBe("PNG");
  }

  const followed = await lucid.generate(small("a streamed SDK teapot", { steps: 8 }));
  const statuses: string[] = [];
  for await (const generation of lucid.stream(followed.id)) {
    api.conforms("Generation", generation);
    expect(generation.id).toBe(followed.id);
    statuses.push(generation.status);
  }
  expect(statuses.at(-1)).toBe("succeeded");
  const order = ["queued", "running", "succeeded"];
  expect(statuses.map((s) => order.indexOf(s))).toEqual([...statuses.map((s) => order.indexOf(s))].sort((a, b) => a - b));

  const page1 = await lucid.list({ limit: 1 });
  api.conforms("GenerationList", page1);
  expect(page1.data).toHaveLength(1);
  expect(page1.next_cursor).not.toBeNull();
  const page2 = await lucid.list({ limit: 1, cursor: page1.next_cursor! });
  expect(page2.data[0]!.id).not.toBe(page1.data[0]!.id);

  const error = await lucid.get(NO_SUCH_ID).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(LucidError);
  expect([(error as LucidError).status, (error as LucidError).code]).toEqual([404, "not_found"]);
  const invalid = await lucid.generate({ prompt: "x", width: 100 }).then(() => null, (e: unknown) => e as LucidError);
  expect([invalid?.status, invalid?.code, invalid?.errors]).toEqual([400, "validation_failed", [{ field: "width", message: "must be a multiple of 8" }]]);
});
