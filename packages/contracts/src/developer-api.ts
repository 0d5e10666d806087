import { z } from "zod";

/** What an API key may do. Session (studio) callers hold every scope. */
export const API_KEY_SCOPES = ["generations:write", "generations:read", "images:read"] as const;
export const ApiKeyScope = z.enum(API_KEY_SCOPES);
export type ApiKeyScope = z.infer<typeof ApiKeyScope>;

/** Most active (unrevoked, unexpired) keys a workspace may hold. */
export const MAX_ACTIVE_API_KEYS = 100;

/** Input of `createApiKey` (settings page, CLI). Everything but the name is optional. */
export const CreateApiKeyInput = z.object({
  name: z.string().trim().min(1, "is required").max(100, "must be at most 100 characters"),
  scopes: z.array(ApiKeyScope).min(1, "choose at least one scope").default([...API_KEY_SCOPES]),
  expiresAt: z.coerce.date({ error: "must be a date" }).optional(),
  monthlyCreditCap: z.number().int("must be a whole number").min(1, "must be at least 1").max(10_000_000).optional(),
  rateLimitPerMinute: z.number().int("must be a whole number").min(1, "must be at least 1").max(1_000_000).optional(),
});
export type CreateApiKeyInput = z.input<typeof CreateApiKeyInput>;

/** The limits of a workspace plan. */
export const Plan = z.object({
  /** Requests per API key per minute (sliding window). */
  requestsPerMinute: z.number().int().min(1),
  /** Jobs of the workspace queued or running at once. */
  maxInFlightJobs: z.number().int().min(1),
});
export type Plan = z.infer<typeof Plan>;
export const Plans = z.record(z.string().regex(/^[a-z0-9_-]+$/), Plan);
export type Plans = z.infer<typeof Plans>;

/** Built-in plans; LUCID_PLANS (JSON object) adds or overrides by name. Workspaces start on "free". */
export const DEFAULT_PLANS: Plans = {
  free: { requestsPerMinute: 60, maxInFlightJobs: 10 },
  pro: { requestsPerMinute: 600, maxInFlightJobs: 50 },
};
export const DEFAULT_PLAN = "free";
