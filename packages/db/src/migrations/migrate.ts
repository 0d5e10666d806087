import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { MigrationList } from "@prisma/schema-engine-wasm";
import { NO_FILTERS, withSchemaEngine } from "./schema-engine.ts";

/** The repository's `prisma/migrations`. */
export const MIGRATIONS_DIR = resolve(fileURLToPath(new URL("../../../../prisma/migrations", import.meta.url)));
export const SCHEMA_PATH = resolve(fileURLToPath(new URL("../../../../prisma/schema.prisma", import.meta.url)));

// Held for the whole run so that processes starting together (web, worker,
// tests) apply migrations one after the other. Distinct from the key Prisma's
// engine may take itself, so the two never wait on each other.
const MIGRATE_LOCK_KEY = 7_214_023_190_425_101n;

export interface MigrateOptions {
  migrationsDir?: string;
  onLog?: (line: string) => void;
}

/**
 * Applies every migration in `prisma/migrations` that the database has not
 * recorded in `_prisma_migrations`, in name order, like `prisma migrate deploy`.
 */
export async function migrateDatabase(databaseUrl: string, opts: MigrateOptions = {}): Promise<{ applied: string[] }> {
  const migrationsList = readMigrationList(opts.migrationsDir ?? MIGRATIONS_DIR);
  return withSchemaEngine(
    databaseUrl,
    async ({ engine, pool }) => {
      const lock = await pool.connect();
      try {
        await lock.query("SELECT pg_advisory_lock($1)", [MIGRATE_LOCK_KEY.toString()]);
        const { appliedMigrationNames } = await engine.applyMigrations({ migrationsList, filters: NO_FILTERS });
        return { applied: appliedMigrationNames };
      } finally {
        // Closing the session releases the lock even if the unlock fails.
        await lock.query("SELECT pg_advisory_unlock($1)", [MIGRATE_LOCK_KEY.toString()]).catch(() => undefined);
        lock.release();
      }
    },
    { onLog: opts.onLog },
  );
}

/** The migrations folder as the engine expects it: `<name>/migration.sql` plus the lock file. */
export function readMigrationList(migrationsDir: string): MigrationList {
  const baseDir = resolve(migrationsDir);
  const lockPath = join(baseDir, "migration_lock.toml");
  const names = existsSync(baseDir)
    ? readdirSync(baseDir, { withFileTypes: true })
        .filter((e) => e.isDirectory() && existsSync(join(baseDir, e.name, "migration.sql")))
        .map((e) => e.name)
        .sort()
    : [];
  return {
    baseDir,
    lockfile: { path: "migration_lock.toml", content: existsSync(lockPath) ? readFileSync(lockPath, "utf8") : null },
    shadowDbInitScript: "",
    migrationDirectories: names.map((name) => ({
      path: name,
      migrationFile: {
        path: "migration.sql",
        content: { tag: "ok", value: readFileSync(join(baseDir, name, "migration.sql"), "utf8") },
      },
    })),
  };
}
