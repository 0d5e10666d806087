export * from "./generation.ts";
export * from "./job-message.ts";
export * from "./problem.ts";
export * from "./billing.ts";
export * from "./auth.ts";
export * from "./generation-list.ts";
export * from "./openai.ts";
export * from "./openapi.ts";
