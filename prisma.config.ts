import { defineConfig } from "prisma/config";

// Prisma 7 keeps the datasource URL here. The CLI is used only for `generate`
// (migrations run through @prisma/schema-engine-wasm, see packages/db).
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost:5432/lucid" },
});
