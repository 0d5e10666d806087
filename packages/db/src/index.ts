export { createDb, type DbTransaction } from "./client.ts";
// Migrations live behind "@lucid/db/migrate": the web bundle must not pull in the migration files.
export { isCheckViolation, CREDIT_BALANCE_CHECK } from "./errors.ts";
// Generated client: PrismaClient, the Prisma namespace, model types and enums.
export * from "./generated/client.ts";
