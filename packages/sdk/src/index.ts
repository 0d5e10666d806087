export { Lucid, isTerminal } from "./client.ts";
export type { CancelResult, GenerateOptions, Generation, GenerationList, GenerationRequest, GenerationStatus, ListOptions, LucidOptions, WaitOptions } from "./client.ts";
export { LucidError, LucidTimeoutError } from "./errors.ts";
export type { FieldError, Problem, ProblemCode } from "./errors.ts";
export { verifyWebhook } from "./webhooks.ts";
export type { WebhookEvent } from "./webhooks.ts";
export type { components, paths } from "./schema.ts";
