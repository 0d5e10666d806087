export * from "./errors.ts";
export * from "./platform.ts";
export * from "./credits.ts";
export * from "./accounts.ts";
export * from "./jobs.ts";
export * from "./api-keys.ts";
export * from "./gallery.ts";
export * from "./billing.ts";
