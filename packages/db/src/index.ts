export { createDb, type DbTransaction } from "./client.ts";
export { migrateDatabase, MIGRATIONS_DIR, type MigrateOptions } from "./migrations/migrate.ts";
export { isCheckViolation, CREDIT_BALANCE_CHECK } from "./errors.ts";
// Generated client: PrismaClient, the Prisma namespace, model types and enums.
export * from "./generated/client.ts";
