// Server-side migration entry point (`@lucid/db/migrate`), kept apart from the
// client so that bundled apps (Next.js) never load the wasm schema engine.
export { migrateDatabase, readMigrationList, MIGRATIONS_DIR, type MigrateOptions } from "./migrations/migrate.ts";
