import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { SCHEMA_FILE, schemaSource } from "../scripts/generate.ts";

test("src/schema.ts is what openapi-typescript generates from the current contracts (run `npm run -w @lucid/sdk generate` if not)", async () => {
  const committed = readFileSync(SCHEMA_FILE, "utf8");
  const fresh = await schemaSource();
  assert.ok(fresh.includes('"/api/v1/generations"'), "the generated types describe the generations endpoint");
  assert.equal(committed, fresh);
});
