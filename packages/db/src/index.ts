export { createDb, type DbTransaction } from "./client.ts";
export { isCheckViolation, CREDIT_SPEND_CHECK } from "./errors.ts";
// Generated client: PrismaClient, the Prisma namespace, model types and enums.
// Migrations: `@lucid/db/migrate`.
export * from "./generated/client.ts";
