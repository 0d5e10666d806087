import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createDb, isCheckViolation, CREDIT_SPEND_CHECK } from "../src/index.ts";
import { migrateDatabase, MIGRATIONS_DIR } from "../src/migrate.ts";
import { query, startTestCluster } from "./helpers.ts";

const migrationNames = readdirSync(MIGRATIONS_DIR, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

let cluster: Awaited<ReturnType<typeof startTestCluster>>;
before(async () => {
  cluster = await startTestCluster();
});
after(async () => {
  await cluster?.stop();
});

describe("migrateDatabase", () => {
  test("applies every migration to an empty database and records it in _prisma_migrations", async () => {
    const url = await cluster.freshDatabase("empty_db");
    const { applied } = await migrateDatabase(url);
    assert.deepEqual(applied, migrationNames);

    const rows = await query<{ migration_name: string; checksum: string; finished_at: Date | null; rolled_back_at: Date | null; applied_steps_count: number }>(
      url,
      `SELECT migration_name, checksum, finished_at, rolled_back_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name`,
    );
    assert.deepEqual(rows.map((r) => r.migration_name), migrationNames);
    for (const row of rows) {
      const sql = readFileSync(join(MIGRATIONS_DIR, row.migration_name, "migration.sql"));
      assert.equal(row.checksum, createHash("sha256").update(sql).digest("hex"));
      assert.ok(row.finished_at instanceof Date);
      assert.equal(row.rolled_back_at, null);
      assert.equal(row.applied_steps_count, 1);
    }
    const tables = await query<{ table_name: string }>(
      url,
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name`,
    );
    for (const table of ["User", "Workspace", "CreditEntry", "Job", "Image", "ApiKey", "StripeEvent"]) {
      assert.ok(tables.some((t) => t.table_name === table), `table ${table} exists`);
    }
  });

  test("re-applying to an up-to-date database applies nothing", async () => {
    const url = await cluster.freshDatabase("reapply_db");
    await migrateDatabase(url);
    assert.deepEqual(await migrateDatabase(url), { applied: [] });
    const rows = await query(url, `SELECT 1 FROM _prisma_migrations`);
    assert.equal(rows.length, migrationNames.length);
  });

  test("two processes migrating at once both succeed and apply each migration once", async () => {
    const url = await cluster.freshDatabase("concurrent_db");
    const results = await Promise.all([migrateDatabase(url), migrateDatabase(url), migrateDatabase(url)]);
    assert.deepEqual(results.flatMap((r) => r.applied).sort(), migrationNames);
    const rows = await query<{ migration_name: string }>(url, `SELECT migration_name FROM _prisma_migrations`);
    assert.equal(rows.length, migrationNames.length);
  });

  test("a migration with $$ bodies and semicolons in strings applies as written", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lucid-migrations-"));
    try {
      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      const name = "29990101000000_function";
      mkdirSync(join(dir, name));
      writeFileSync(
        join(dir, name, "migration.sql"),
        `CREATE FUNCTION lucid_probe() RETURNS text AS $$ BEGIN RETURN 'a;b'; END; $$ LANGUAGE plpgsql;\n`,
      );
      const url = await cluster.freshDatabase("function_db");
      const { applied } = await migrateDatabase(url, { migrationsDir: dir });
      assert.equal(applied.at(-1), name);
      const [row] = await query<{ v: string }>(url, `SELECT lucid_probe() AS v`);
      assert.equal(row?.v, "a;b");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a failing migration leaves none of its statements behind and is recorded as failed", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lucid-migrations-"));
    try {
      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      const name = "29990101000000_broken";
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, "migration.sql"), `CREATE TABLE "Half" (id int);\nSELECT * FROM "NoSuchTable";\n`);
      const url = await cluster.freshDatabase("broken_db");
      await assert.rejects(migrateDatabase(url, { migrationsDir: dir }));
      const half = await query(url, `SELECT 1 FROM information_schema.tables WHERE table_name = 'Half'`);
      assert.equal(half.length, 0);
      const [failed] = await query<{ finished_at: Date | null }>(
        url,
        `SELECT finished_at FROM _prisma_migrations WHERE migration_name = $1`,
        [name],
      );
      assert.equal(failed?.finished_at, null);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("database guarantees and client", () => {
  let url: string;
  before(async () => {
    url = await cluster.freshDatabase("client_db");
    await migrateDatabase(url);
  });

  test("the database refuses a spending ledger entry that overdraws; only a refund or an adjustment may leave a debt", async () => {
    const db = createDb(url);
    try {
      const ws = await db.workspace.create({ data: { name: "Acme", kind: "team", creditBalance: 3 } });
      const entry = (kind: "reserve" | "refund" | "adjustment", amount: number, balanceAfter: number) =>
        db.creditEntry.create({ data: { workspaceId: ws.id, kind, amount, balanceAfter, externalRef: `t:${kind}:${amount}:${balanceAfter}` } });
      await assert.rejects(entry("reserve", -4, -1), (err) => isCheckViolation(err, CREDIT_SPEND_CHECK));
      const raw = db.$executeRaw`INSERT INTO "CreditEntry" (id, "workspaceId", kind, amount, "externalRef", "balanceAfter")
        VALUES (gen_random_uuid(), ${ws.id}::uuid, 'reserve', -5, 'raw', -2)`;
      await assert.rejects(raw, (err) => isCheckViolation(err, CREDIT_SPEND_CHECK));
      // Down to exactly zero is allowed; a refund or an adjustment may go below.
      await entry("reserve", -3, 0);
      await entry("refund", -10, -10);
      await entry("adjustment", -1, -11);
      assert.equal(await db.creditEntry.count({ where: { workspaceId: ws.id } }), 3);
    } finally {
      await db.$disconnect();
    }
  });

  test("the client creates and reads back a user", async () => {
    const db = createDb(url);
    try {
      const created = await db.user.create({ data: { email: "ada@example.com", name: "Ada" } });
      const found = await db.user.findUnique({ where: { email: "ada@example.com" } });
      assert.equal(found?.id, created.id);
      assert.equal(found?.name, "Ada");
      assert.ok(found?.createdAt instanceof Date);
    } finally {
      await db.$disconnect();
    }
  });
});
