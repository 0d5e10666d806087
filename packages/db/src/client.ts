import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/client.ts";

/**
 * The one way to get a database client. Prisma 7 talks to PostgreSQL through
 * a driver adapter (node-postgres here). Call `$disconnect()` on shutdown.
 */
export function createDb(databaseUrl: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl }) });
}

/** What a `$transaction(async (tx) => ...)` callback receives. */
export type DbTransaction = Parameters<Parameters<PrismaClient["$transaction"]>[0]>[0];
