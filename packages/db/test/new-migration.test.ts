import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createMigration } from "../src/migrations/new.ts";
import { MIGRATIONS_DIR, SCHEMA_PATH } from "../src/migrations/migrate.ts";
import { CREDIT_SPEND_CHECK } from "../src/index.ts";
import { migrateDatabase } from "../src/migrate.ts";
import { query, startTestCluster } from "./helpers.ts";

let cluster: Awaited<ReturnType<typeof startTestCluster>>;
let work: string;
before(async () => {
  cluster = await startTestCluster();
  work = mkdtempSync(join(tmpdir(), "lucid-new-migration-"));
});
after(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

test("the first migration is diffed from an empty database and keeps a copy of the schema", async () => {
  const dir = join(work, "first");
  const url = await cluster.freshDatabase("first_diff");
  const result = await createMigration("Init", { databaseUrl: url, migrationsDir: dir, now: new Date("2030-01-02T03:04:05Z") });
  assert.equal(result.name, "20300102030405_init");
  const folder = join(dir, "20300102030405_init");
  assert.match(readFileSync(join(folder, "migration.sql"), "utf8"), /CREATE TABLE "Workspace"/);
  assert.equal(readFileSync(join(folder, "schema.prisma"), "utf8"), readFileSync(SCHEMA_PATH, "utf8"));
  assert.match(readFileSync(join(dir, "migration_lock.toml"), "utf8"), /provider = "postgresql"/);
});

test("an unchanged schema writes no migration", async () => {
  const dir = join(work, "unchanged");
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  const before = readdirSync(dir);
  const result = await createMigration("nothing", { databaseUrl: await cluster.freshDatabase("unchanged_diff"), migrationsDir: dir });
  assert.equal(result.name, null);
  assert.deepEqual(readdirSync(dir), before);
});

test("a later migration holds only the schema change and keeps the hand-written credit CHECKs", async () => {
  const dir = join(work, "later");
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  const schemaPath = join(work, "changed.prisma");
  const schema = readFileSync(SCHEMA_PATH, "utf8").replace(
    /(model Workspace \{\n)/,
    "$1  description      String?\n",
  );
  assert.notEqual(schema, readFileSync(SCHEMA_PATH, "utf8"));
  writeFileSync(schemaPath, schema);

  const result = await createMigration("workspace description", {
    databaseUrl: await cluster.freshDatabase("later_diff"),
    migrationsDir: dir,
    schemaPath,
  });
  assert.match(result.name ?? "", /^\d{14}_workspace_description$/);
  assert.match(result.sql, /ALTER TABLE "Workspace" ADD COLUMN\s+"description" TEXT/);
  assert.doesNotMatch(result.sql, /DROP/);
  assert.ok(existsSync(join(dir, result.name!, "schema.prisma")));

  const url = await cluster.freshDatabase("later_apply");
  const { applied } = await migrateDatabase(url, { migrationsDir: dir });
  assert.equal(applied.at(-1), result.name);
  const constraints = await query<{ conname: string }>(
    url,
    `SELECT conname FROM pg_constraint WHERE conrelid IN ('"Workspace"'::regclass, '"CreditEntry"'::regclass) AND contype = 'c' ORDER BY conname`,
  );
  assert.deepEqual(constraints.map((c) => c.conname), [CREDIT_SPEND_CHECK, "Workspace_monthlySpendLimit_nonnegative"]);
});
