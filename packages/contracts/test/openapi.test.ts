import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { compileErrors, validate } from "@readme/openapi-parser";
import { createSchema } from "zod-openapi";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { buildOpenApiDocument, EXAMPLE_GENERATIONS, Generation, PROBLEM_CODE_STATUS, GenerationRequest, WebhookEventPayload, fieldErrors } from "../src/index.ts";

const document = buildOpenApiDocument({ serverUrl: "https://lucid.example.com" });
const API_DIR = fileURLToPath(new URL("../../../apps/web/app/api/v1", import.meta.url));
const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;

/** Every route handler under apps/web/app/api/v1 as "METHOD /api/v1/…" (Next's `[id]` segments as `{id}`). */
function implementedOperations(): string[] {
  const operations: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/^route\.tsx?$/.test(entry.name)) {
        const route = relative(API_DIR, dir).split(sep).filter(Boolean).map((s) => s.replace(/^\[(.+)\]$/, "{$1}"));
        const source = readFileSync(path, "utf8");
        for (const method of HTTP_METHODS) {
          if (new RegExp(`export\\s+(const|async function|function)\\s+${method}\\b`).test(source)) operations.push(`${method} /api/v1/${route.join("/")}`);
        }
      }
    }
  };
  walk(API_DIR);
  return operations.sort();
}

function documentedOperations(): string[] {
  return Object.entries(document.paths ?? {})
    .flatMap(([path, item]) => HTTP_METHODS.filter((m) => m.toLowerCase() in (item as object)).map((m) => `${m} ${path}`))
    .sort();
}

/** An ajv (JSON Schema 2020-12, OpenAPI 3.1's dialect) that resolves the document's `#/components/...` refs. */
function documentValidator() {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema({ $id: "lucid-openapi.json", components: document.components }, "lucid-openapi.json");
  return (schema: object, value: unknown) => {
    const check = ajv.compile({ $id: `check-${Math.random()}`, ...withDocumentRefs(schema) });
    return check(value) ? [] : (check.errors ?? []).map((e) => `${e.instancePath} ${e.message}`);
  };
}

const withDocumentRefs = <T>(schema: T): T =>
  JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"lucid-openapi.json#/components/'));

test("the generated document is valid OpenAPI 3.1", async () => {
  const result = await validate(structuredClone(document) as never);
  assert.ok(result.valid, result.valid ? "" : compileErrors(result));
  assert.equal(document.openapi, "3.1.0");
  assert.deepEqual(document.servers, [{ url: "https://lucid.example.com" }]);
});

test("every /api/v1 route handler has its path and method in the document, and the document describes no other", () => {
  const implemented = implementedOperations();
  assert.ok(implemented.includes("POST /api/v1/generations"), `route scan found: ${implemented.join(", ")}`);
  assert.deepEqual(documentedOperations(), implemented);
});

test("the document lists every stable problem code", () => {
  const problem = document.components!.schemas!.Problem as { properties: { code: { enum: string[] } } };
  assert.deepEqual([...problem.properties.code.enum].sort(), Object.keys(PROBLEM_CODE_STATUS).sort());
});

test("authenticated operations use the bearer scheme; the document itself is public", () => {
  assert.deepEqual(document.security, [{ bearerAuth: [] }]);
  assert.deepEqual(document.components!.securitySchemes!.bearerAuth, {
    type: "http",
    scheme: "bearer",
    bearerFormat: "lucid_sk_…",
    description: (document.components!.securitySchemes!.bearerAuth as { description: string }).description,
  });
  assert.deepEqual(document.paths!["/api/v1/openapi.json"]!.get!.security, []);
  const submit = document.paths!["/api/v1/generations"]!.post!;
  for (const status of ["202", "400", "401", "402"]) assert.ok(submit.responses![status], `submit documents ${status}`);
});

test("every example in the document validates against its own schema", () => {
  const check = documentValidator();
  let checked = 0;
  for (const [path, item] of Object.entries(document.paths!)) {
    for (const [method, op] of Object.entries(item as Record<string, { requestBody?: { content: object }; responses?: object }>)) {
      const bodies = [
        ...(op.requestBody ? [["request", op.requestBody.content] as const] : []),
        ...Object.entries(op.responses ?? {}).map(([status, r]) => [status, (r as { content?: object }).content ?? {}] as const),
      ];
      for (const [where, content] of bodies) {
        for (const [mediaType, media] of Object.entries(content) as Array<[string, { schema?: object; example?: unknown; examples?: Record<string, { value: unknown }> }]>) {
          if (mediaType === "text/event-stream" || !media.schema) continue;
          const examples = [...(media.example !== undefined ? [media.example] : []), ...Object.values(media.examples ?? {}).map((e) => e.value)];
          for (const example of examples) {
            assert.deepEqual(check(media.schema, example), [], `${method.toUpperCase()} ${path} ${where} ${mediaType} example`);
            checked++;
          }
        }
      }
    }
  }
  assert.ok(checked >= 10, `only ${checked} examples checked`);
});

test("the example generations are valid Generation objects (parsed by the contract itself)", () => {
  for (const example of Object.values(EXAMPLE_GENERATIONS)) assert.deepEqual(Generation.parse(example), example);
});

test("a real validation failure renders as documented problem JSON", () => {
  const parsed = GenerationRequest.safeParse({ prompt: "x", steps: 500, colour: "red" });
  assert.equal(parsed.success, false);
  const errors = fieldErrors(parsed.error!);
  const body = { type: "https://lucid.dev/errors/validation_failed", title: "Invalid request", status: 400, detail: "steps must be at most 50", code: "validation_failed", errors };
  const check = documentValidator();
  const problemSchema = document.paths!["/api/v1/generations"]!.post!.responses!["400"]!.content!["application/problem+json"]!.schema!;
  assert.deepEqual(check(problemSchema, body), []);
  // …and an unknown code would not pass: the enum is closed.
  assert.notDeepEqual(check(problemSchema, { ...body, code: "teapot" }), []);
});

test("request bodies the contract refuses are refused by the documented schema too", () => {
  const check = documentValidator();
  const body = document.paths!["/api/v1/generations"]!.post!.requestBody as { content: Record<string, { schema: object }> };
  const schema = body.content["application/json"]!.schema;
  assert.deepEqual(check(schema, { prompt: "a lighthouse", width: 512, steps: 20, seed: 42 }), []);
  for (const bad of [{}, { prompt: "x", steps: 500 }, { prompt: "x", colour: "red" }, { prompt: "x", width: 2048 }, { prompt: "x", n: 0 }]) {
    assert.equal(GenerationRequest.safeParse(bad).success, false);
    assert.notDeepEqual(check(schema, bad), [], `documented schema accepts ${JSON.stringify(bad)}`);
  }
});

test("webhook deliveries are documented with the same Generation component the API answers with", () => {
  const rendered = createSchema(WebhookEventPayload, { io: "output", openapiVersion: "3.1.0" }).components ?? {};
  for (const [id, schema] of Object.entries(rendered)) assert.deepEqual(document.components!.schemas![id], schema, id);
  assert.ok(!Object.keys(document.components!.schemas!).some((id) => id.endsWith("Output")), "no duplicate input/output components");
  const delivery = { type: "generation.succeeded", timestamp: "2026-01-05T10:00:05.000Z", data: EXAMPLE_GENERATIONS.succeeded };
  assert.deepEqual(WebhookEventPayload.parse(delivery), delivery);
  const check = documentValidator();
  assert.deepEqual(check({ $ref: "#/components/schemas/WebhookEventPayload" }, delivery), []);
  assert.notDeepEqual(check({ $ref: "#/components/schemas/WebhookEventPayload" }, { ...delivery, type: "generation.exploded" }), []);
  const post = (document.webhooks as Record<string, { post: { parameters: Array<{ name: string; in: string; required?: boolean }> } }>).generationEvent!.post;
  assert.deepEqual(post.parameters.filter((p) => p.in === "header" && p.required).map((p) => p.name).sort(), ["webhook-id", "webhook-signature", "webhook-timestamp"]);
});
