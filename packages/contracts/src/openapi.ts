import { z } from "zod";
import { createDocument, createSchema, type oas31, type ZodOpenApiOperationObject, type ZodOpenApiResponseObject } from "zod-openapi";
import { CancelOutcome, Generation, GenerationRequest, MAX_SEED } from "./generation.ts";
import { GenerationList as GenerationListContract, GenerationListQuery, GENERATION_EVENT, MAX_PREFER_WAIT_SECONDS } from "./generation-list.ts";
import * as openai from "./openai.ts";
import { Problem } from "./problem.ts";
import { API_KEY_SCOPES } from "./developer-api.ts";
import { WEBHOOK_EVENT_TYPES, WEBHOOK_PROGRESS_EVERY_STEPS, WebhookEventPayload } from "./webhooks.ts";

// The OpenAPI 3.1 document of /api/v1, generated from the zod contracts the
// route handlers parse with (zod-openapi), so it cannot drift from them. Only
// what the routes implement is described here.

/**
 * Every stable problem `code` and the HTTP status it is sent with: the one
 * table (the domain's `AppError` takes its codes and statuses from here).
 */
export const PROBLEM_CODE_STATUS = {
  validation_failed: 400,
  invalid_json: 400,
  unknown_model: 400,
  invalid_signature: 400,
  invalid_token: 400,
  oauth_failed: 400,
  unknown_pack: 400,
  unauthenticated: 401,
  invalid_credentials: 401,
  invalid_api_key: 401,
  api_key_revoked: 401,
  api_key_expired: 401,
  insufficient_credits: 402,
  spend_limit_reached: 402,
  forbidden: 403,
  insufficient_scope: 403,
  key_credit_cap_exceeded: 403,
  email_not_verified: 403,
  not_found: 404,
  email_taken: 409,
  payment_incomplete: 409,
  api_key_limit_reached: 409,
  idempotency_request_in_progress: 409,
  last_owner: 409,
  invite_used: 409,
  invite_expired: 410,
  idempotency_key_reused: 422,
  rate_limited: 429,
  too_many_in_flight_jobs: 429,
  too_many_attempts: 429,
  internal: 500,
  billing_not_configured: 503,
  service_unavailable: 503,
} as const;
export type ProblemCode = keyof typeof PROBLEM_CODE_STATUS;
export const PROBLEM_CODES = Object.keys(PROBLEM_CODE_STATUS) as [ProblemCode, ...ProblemCode[]];

/** Problem JSON as documented: the same shape as `Problem`, with `code` as the closed list of stable codes. */
const ProblemDocument = Problem.extend({
  type: Problem.shape.type.meta({ description: "URI naming the problem type", example: "https://lucid.dev/errors/validation_failed" }),
  title: Problem.shape.title.meta({ description: "Short human-readable summary of the problem type", example: "Invalid request" }),
  status: Problem.shape.status.meta({ description: "The HTTP status code", example: 400 }),
  detail: Problem.shape.detail.meta({ description: "What went wrong with this request", example: "steps must be at most 50" }),
  code: z.enum(PROBLEM_CODES).meta({ description: "Stable machine-readable error code; branch on this, not on `title` or `detail`." }),
  errors: Problem.shape.errors.meta({ description: "For bad input: one entry per offending field, named the way the client sent it" }),
}).meta({ id: "Problem", description: "RFC 9457 problem details (`application/problem+json`) with a stable `code`." });

// Same prefix as core's API_KEY_PREFIX (the contracts test pins it).
const API_KEY_PREFIX = "lucid_sk_";

// Schemas defined elsewhere and used once here get their component ids on a documented copy.
const GenerationList = GenerationListContract.meta({ id: "GenerationList" });
const OpenAIImageGenerationRequest = openai.OpenAIImageGenerationRequest.meta({ id: "OpenAIImageGenerationRequest" });
const OpenAIImagesResponse = openai.OpenAIImagesResponse.meta({ id: "OpenAIImagesResponse" });
const OpenAIError = openai.OpenAIError.meta({ id: "OpenAIError" });

const generationId = z.string().meta({ description: "The generation's id (a UUID)", example: "0b6a8e52-3f7c-4d6e-9a51-2f1d8c7b9e10" });
const idPath = z.object({ id: generationId });

const EXAMPLE_ID = "0b6a8e52-3f7c-4d6e-9a51-2f1d8c7b9e10";
const EXAMPLE_REQUEST = { prompt: "a lighthouse at dawn, oil painting", width: 512, height: 512, steps: 20, seed: 42 };

/** A generation as the API returns it, queued and finished (also checked against the contract in tests). */
export const EXAMPLE_GENERATIONS = {
  queued: {
    id: EXAMPLE_ID,
    object: "generation",
    status: "queued",
    request: { ...EXAMPLE_REQUEST, negative_prompt: "", guidance: 7.5, n: 1, model: "lucid-tiny" },
    progress: { step: 0, total: 20, preview_url: null },
    prompt_truncated: false,
    images: [],
    error: null,
    credits_reserved: 1,
    credits_charged: 0,
    credits_released: 0,
    created_at: "2026-01-05T10:00:00.000Z",
    started_at: null,
    finished_at: null,
    queue_position: 0,
    status_url: `https://lucid.example.com/api/v1/generations/${EXAMPLE_ID}`,
    cancel_url: `https://lucid.example.com/api/v1/generations/${EXAMPLE_ID}/cancel`,
    events_url: `https://lucid.example.com/api/v1/generations/${EXAMPLE_ID}/events`,
  },
  succeeded: {
    id: EXAMPLE_ID,
    object: "generation",
    status: "succeeded",
    request: { ...EXAMPLE_REQUEST, negative_prompt: "", guidance: 7.5, n: 1, model: "lucid-tiny" },
    progress: { step: 20, total: 20, preview_url: null },
    prompt_truncated: false,
    images: [
      {
        id: "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f",
        url: "https://images.example.com/lucid-images/7c1d2e3f.png?X-Amz-Signature=…",
        thumbnail_url: "https://images.example.com/lucid-images/7c1d2e3f.webp?X-Amz-Signature=…",
        width: 512,
        height: 512,
        seed: 42,
        content_type: "image/png",
      },
    ],
    error: null,
    credits_reserved: 1,
    credits_charged: 1,
    credits_released: 0,
    created_at: "2026-01-05T10:00:00.000Z",
    started_at: "2026-01-05T10:00:01.250Z",
    finished_at: "2026-01-05T10:00:04.900Z",
    queue_position: null,
    status_url: `https://lucid.example.com/api/v1/generations/${EXAMPLE_ID}`,
    cancel_url: `https://lucid.example.com/api/v1/generations/${EXAMPLE_ID}/cancel`,
    events_url: `https://lucid.example.com/api/v1/generations/${EXAMPLE_ID}/events`,
  },
} satisfies Record<string, Generation>;

const problemExample = (code: ProblemCode, detail: string, errors?: Problem["errors"]): oas31.ExampleObject => ({
  summary: code,
  value: {
    type: `https://lucid.dev/errors/${code}`,
    title: code.replace(/_/g, " "),
    status: PROBLEM_CODE_STATUS[code],
    detail,
    code,
    ...(errors ? { errors } : {}),
  },
});

const PROBLEM_EXAMPLES: Partial<Record<ProblemCode, oas31.ExampleObject>> = {
  validation_failed: problemExample("validation_failed", "steps must be at most 50", [{ field: "steps", message: "must be at most 50" }]),
  invalid_json: problemExample("invalid_json", "The request body must be valid JSON.", [{ field: "body", message: "is not valid JSON" }]),
  unknown_model: problemExample("unknown_model", "model 'sdxl' is not served here"),
  unauthenticated: problemExample("unauthenticated", "Send an API key as 'Authorization: Bearer <key>'."),
  invalid_api_key: problemExample("invalid_api_key", "The API key is not valid or was revoked."),
  insufficient_credits: problemExample("insufficient_credits", "This generation costs 4 credits; the workspace has 1."),
  not_found: problemExample("not_found", "generation was not found"),
  internal: problemExample("internal", "Something went wrong on our side. Nothing was charged."),
  service_unavailable: problemExample("service_unavailable", "The job queue is unavailable; try again shortly."),
};

/** A problem+json response that may carry any of `codes`. */
function problemResponse(description: string, codes: ProblemCode[]): ZodOpenApiResponseObject {
  const examples = Object.fromEntries(codes.flatMap((c) => (PROBLEM_EXAMPLES[c] ? [[c, PROBLEM_EXAMPLES[c]]] : [])));
  return {
    description: `${description} Codes: ${codes.map((c) => `\`${c}\``).join(", ")}.`,
    content: { "application/problem+json": { schema: ProblemDocument, examples } },
  };
}

// What every API-key request may meet before the handler runs: authentication,
// the key's scope and its per-minute rate (apps/web/lib/http.ts `apiRoute`).
const unauthorized = problemResponse("No credentials, or an unknown, revoked or expired API key.", ["unauthenticated", "invalid_api_key", "api_key_revoked", "api_key_expired"]);
const notFound = problemResponse("No such generation in the caller's workspace (other workspaces' generations are not found either).", ["not_found"]);
const internal = problemResponse("Unexpected server error; internals are hidden and nothing was charged.", ["internal"]);

type Scope = (typeof API_KEY_SCOPES)[number];

// RateLimit-* (IETF draft names) are on every answer to an API key, not to the studio's session.
const rateLimitHeaders = {
  "ratelimit-limit": z.string().optional().meta({ description: "Requests this key may make per minute (API keys only)", example: "60", header: { id: "RateLimit-Limit" } }),
  "ratelimit-remaining": z.string().optional().meta({ description: "Requests left in the current window (API keys only)", example: "59", header: { id: "RateLimit-Remaining" } }),
  "ratelimit-reset": z.string().optional().meta({ description: "Seconds until the window frees a request (API keys only)", example: "60", header: { id: "RateLimit-Reset" } }),
  "ratelimit-policy": z.string().optional().meta({ description: "The key's policy: limit per 60-second window", example: "60;w=60", header: { id: "RateLimit-Policy" } }),
};
const retryAfter = z.string().meta({ description: "Seconds to wait before retrying", example: "12", header: { id: "Retry-After" } });
const idempotentReplayed = z
  .literal("true")
  .optional()
  .meta({ description: "Present when this is the stored answer to an earlier request with the same `Idempotency-Key`", header: { id: "Idempotent-Replayed" } });

/** Adds the rate-limit headers to a success response. */
const limited = (r: ZodOpenApiResponseObject, extra: Record<string, z.ZodType> = {}): ZodOpenApiResponseObject => ({
  ...r,
  headers: z.object({ ...rateLimitHeaders, ...extra }),
});

function tooMany(codes: ProblemCode[]): ZodOpenApiResponseObject {
  return {
    ...problemResponse("A limit was reached: the key's requests per minute (`rate_limited`), or the workspace's generations queued or running at once (`too_many_in_flight_jobs`). Retry after `Retry-After` seconds.", codes),
    headers: z.object({ "retry-after": retryAfter, ...rateLimitHeaders }),
  };
}

/** Responses of any authenticated operation: 401, 403 (scope), 429 (rate), 500. */
function guarded(scope: Scope | null, extra403: ProblemCode[] = []): Record<string, ZodOpenApiResponseObject> {
  const forbidden: ProblemCode[] = [...(scope ? (["insufficient_scope"] as ProblemCode[]) : []), ...extra403];
  return {
    "401": unauthorized,
    ...(forbidden.length ? { "403": problemResponse(`The API key lacks the \`${scope}\` scope${extra403.length ? ", or the request would take it past its monthly credit cap" : ""}.`, forbidden) } : {}),
    "429": tooMany(["rate_limited"]),
    "500": internal,
  };
}

const scopeNote = (scope: Scope | null) => (scope ? `\n\nAPI keys need the \`${scope}\` scope.` : "");

const idempotencyKeyHeader = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/)
  .optional()
  .meta({
    description:
      "Makes a retry safe: the first answer is stored for 24 hours (per workspace) and replayed, with `Idempotent-Replayed: true`, to a request with the same key and body. The same key with another body is `422 idempotency_key_reused`; a retry while the first is still running is `409 idempotency_request_in_progress`. Answers to requests that fail validation or a limit are not stored.",
    example: "3f1c2a9e-order-42",
    param: { id: "IdempotencyKey" },
  });
const idempotencyConflicts = {
  "409": problemResponse("A request with this `Idempotency-Key` is still being processed.", ["idempotency_request_in_progress"]),
  "422": problemResponse("This `Idempotency-Key` was used with a different request.", ["idempotency_key_reused"]),
};

const generationJson = (examples: Record<string, oas31.ExampleObject>) => ({ "application/json": { schema: Generation, examples } });

const CancelResult = z
  .object({
    outcome: CancelOutcome.meta({
      description:
        "`canceled`: it was queued and will never run (credits released); `cancellation_requested`: it is running and stops at its next step; `already_finished`: nothing to do",
    }),
    generation: Generation,
  })
  .meta({ id: "CancelResult", description: "Outcome of a cancel request, with the generation as it is now." });

const preferHeader = z
  .string()
  .optional()
  .meta({
    description: `RFC 7240 preference \`wait=N\` (0..${MAX_PREFER_WAIT_SECONDS} seconds): hold the response until the generation reaches a terminal state or N seconds pass. Other preferences are ignored.`,
    example: "wait=30",
  });

const IMAGE_SCOPE_NOTE =
  "Without the `images:read` scope, image `url`s point at `GET /api/v1/images/{id}` (which refuses such a key) and `thumbnail_url` is null.";

const submitGeneration: ZodOpenApiOperationObject = {
  operationId: "createGeneration",
  summary: "Submit a generation",
  description:
    "Reserves the credits the request costs (see `creditCost`) and queues the job. The answer is the generation object; poll `GET /api/v1/generations/{id}`, stream `GET /api/v1/generations/{id}/events`, or send `Prefer: wait=N` to get the finished result in this response. Send an `Idempotency-Key` to retry safely." +
    scopeNote("generations:write"),
  tags: ["Generations"],
  requestParams: { header: z.object({ prefer: preferHeader, "idempotency-key": idempotencyKeyHeader }) },
  requestBody: {
    required: true,
    content: {
      "application/json": {
        schema: GenerationRequest,
        examples: {
          text_to_image: { summary: "Text to image", value: EXAMPLE_REQUEST },
          variation: {
            summary: "Image to image (variation of an image the caller may see)",
            value: { prompt: "the same lighthouse at night", init_image_id: "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", strength: 0.6 },
          },
        },
      },
    },
  },
  responses: {
    "200": limited(
      {
        description: "With `Prefer: wait=N`: the generation reached a terminal state (succeeded, failed or canceled) within the wait.",
        content: generationJson({ succeeded: { value: EXAMPLE_GENERATIONS.succeeded } }),
      },
      {
        "preference-applied": z.string().meta({ description: "`wait=N` when the preference was honoured", example: "wait=30" }),
        location: z.string().meta({ description: "URL of the generation", example: `/api/v1/generations/${EXAMPLE_ID}` }),
        "idempotent-replayed": idempotentReplayed,
      },
    ),
    "202": limited(
      {
        description: "Accepted and queued (or, with `Prefer: wait=N`, still not finished when the wait ran out).",
        content: generationJson({ queued: { value: EXAMPLE_GENERATIONS.queued } }),
      },
      {
        location: z.string().meta({ description: "URL of the generation", example: `/api/v1/generations/${EXAMPLE_ID}` }),
        "idempotent-replayed": idempotentReplayed,
      },
    ),
    "400": problemResponse("The body is not JSON, a field or header is invalid (listed in `errors`), or the model is not served.", ["validation_failed", "invalid_json", "unknown_model"]),
    "402": problemResponse("The workspace's balance does not cover the request's cost, or it would pass the workspace's monthly spend limit; nothing was queued.", ["insufficient_credits", "spend_limit_reached"]),
    "404": problemResponse("`init_image_id` names no image the caller may see.", ["not_found"]),
    ...idempotencyConflicts,
    ...guarded("generations:write", ["key_credit_cap_exceeded"]),
    "429": tooMany(["rate_limited", "too_many_in_flight_jobs"]),
    "503": problemResponse("The queue or database is unavailable; nothing was charged.", ["service_unavailable"]),
  },
};

const listGenerations: ZodOpenApiOperationObject = {
  operationId: "listGenerations",
  summary: "List generations",
  description: "The workspace's generations, newest first, keyset-paginated: pass `next_cursor` as `cursor` for the next page. " + IMAGE_SCOPE_NOTE + scopeNote("generations:read"),
  tags: ["Generations"],
  requestParams: { query: GenerationListQuery },
  responses: {
    "200": limited({
      description: "A page of generations; `next_cursor` is null on the last page.",
      content: { "application/json": { schema: GenerationList, examples: { page: { value: { object: "list", data: [EXAMPLE_GENERATIONS.succeeded], next_cursor: null } } } } },
    }),
    "400": problemResponse("`limit`, `cursor` or `status` is invalid.", ["validation_failed"]),
    ...guarded("generations:read"),
  },
};

const getGeneration: ZodOpenApiOperationObject = {
  operationId: "getGeneration",
  summary: "Get a generation",
  description: "Its status, progress and, once succeeded, its images as signed URLs valid for one hour. " + IMAGE_SCOPE_NOTE + scopeNote("generations:read"),
  tags: ["Generations"],
  requestParams: { path: idPath },
  responses: {
    "200": limited({ description: "The generation.", content: generationJson({ succeeded: { value: EXAMPLE_GENERATIONS.succeeded }, queued: { value: EXAMPLE_GENERATIONS.queued } }) }),
    "404": notFound,
    ...guarded("generations:read"),
  },
};

const generationEvents: ZodOpenApiOperationObject = {
  operationId: "streamGenerationEvents",
  summary: "Stream a generation's events (SSE)",
  description:
    `Server-sent events: every status change and progress step is an \`event: ${GENERATION_EVENT}\` whose \`data\` is the full Generation object (JSON) and whose \`id\` counts up from 1. \`: keep-alive\` comments keep idle connections open. The stream ends after the terminal state.` +
    scopeNote("generations:read"),
  tags: ["Generations"],
  requestParams: { path: idPath },
  responses: {
    "200": limited({
      description: `An \`text/event-stream\`; each event's \`data\` is a Generation.`,
      content: {
        "text/event-stream": {
          schema: z.string().meta({ description: "SSE stream; see the Generation schema for each event's data" }),
          example: `id: 1\nevent: ${GENERATION_EVENT}\ndata: {"id":"${EXAMPLE_ID}","object":"generation","status":"running",…}\n\n`,
        },
      },
    }),
    "404": notFound,
    ...guarded("generations:read"),
  },
};

const cancelGeneration: ZodOpenApiOperationObject = {
  operationId: "cancelGeneration",
  summary: "Cancel a generation",
  description:
    "A queued generation is canceled at once and its credits released; a running one stops at its next step (202); a finished one is left as it is. Canceling again answers the same outcome." +
    scopeNote("generations:write"),
  tags: ["Generations"],
  requestParams: { path: idPath, header: z.object({ "idempotency-key": idempotencyKeyHeader }) },
  responses: {
    "200": limited(
      {
        description: "`canceled` or `already_finished`.",
        content: {
          "application/json": {
            schema: CancelResult,
            examples: { canceled: { value: { outcome: "canceled", generation: { ...EXAMPLE_GENERATIONS.queued, status: "canceled", credits_released: 1, queue_position: null, finished_at: "2026-01-05T10:00:02.000Z" } } } },
          },
        },
      },
      { "idempotent-replayed": idempotentReplayed },
    ),
    "202": limited({ description: "`cancellation_requested`: it is running and stops at its next step.", content: { "application/json": { schema: CancelResult } } }, { "idempotent-replayed": idempotentReplayed }),
    "404": notFound,
    ...idempotencyConflicts,
    ...guarded("generations:write"),
  },
};

const binary = (description: string) => z.string().meta({ description, format: "binary" });

const generationPreview: ZodOpenApiOperationObject = {
  operationId: "getGenerationPreview",
  summary: "Live preview of a running generation",
  description: "The newest low-resolution preview (WebP) of a running generation; `progress.preview_url` links here." + scopeNote("generations:read"),
  tags: ["Generations"],
  requestParams: { path: idPath, query: z.object({ step: z.string().optional().meta({ description: "Cache-buster the server adds: the step the preview shows" }) }) },
  responses: {
    "200": limited({ description: "The preview image.", content: { "image/webp": { schema: binary("WebP image") } } }),
    "404": problemResponse("No such generation, or it has no preview yet.", ["not_found"]),
    ...guarded("generations:read"),
  },
};

const getImage: ZodOpenApiOperationObject = {
  operationId: "getImage",
  summary: "Download an image",
  description: "The image's bytes (PNG), for images of the caller's workspace. Generations link here instead of signed storage URLs when the key lacks `images:read`." + scopeNote("images:read"),
  tags: ["Images"],
  requestParams: { path: z.object({ id: z.string().meta({ description: "The image's id (`images[].id` of a generation)", example: "7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f" }) }) },
  responses: {
    "200": limited({ description: "The image.", content: { "image/png": { schema: binary("PNG image") } } }),
    "404": {
      description: "No such image in the caller's workspace (`not_found`), or its data is missing from storage (plain text).",
      content: { "application/problem+json": { schema: ProblemDocument }, "text/plain": { schema: z.string() } },
    },
    ...guarded("images:read"),
  },
};

const Ping = z
  .object({ ok: z.literal(true), workspace_id: z.string().meta({ description: "The workspace the key acts for" }) })
  .meta({ id: "Ping", description: "The key works." });

const ping: ZodOpenApiOperationObject = {
  operationId: "ping",
  summary: "Check a key",
  description: "Answers when the key is valid, with its workspace and its rate-limit headers. Costs nothing but one request of the key's rate.",
  tags: ["Meta"],
  responses: {
    "200": limited({ description: "The key is valid.", content: { "application/json": { schema: Ping, example: { ok: true, workspace_id: "5d1e0f7a-2b3c-4d5e-8f90-1a2b3c4d5e6f" } } } }),
    ...guarded(null),
  },
};

const openAIErrorResponse = (description: string, headers?: ZodOpenApiResponseObject["headers"]): ZodOpenApiResponseObject => ({
  description,
  content: { "application/json": { schema: OpenAIError } },
  ...(headers ? { headers } : {}),
});

const openAIImages: ZodOpenApiOperationObject = {
  operationId: "createImageOpenAI",
  summary: "Create images (OpenAI-compatible)",
  description:
    "Speaks OpenAI's `POST /v1/images/generations`, so OpenAI clients work with only their base URL changed (`baseURL: \"<origin>/api/v1\"`, the Lucid key as API key). Waits for the images. `model`, `quality`, `style` and `user` are accepted and ignored; errors use OpenAI's error body, and not enough credits is `429 insufficient_quota`. Honours `Idempotency-Key`." +
    scopeNote("generations:write"),
  tags: ["OpenAI compatibility"],
  requestParams: { header: z.object({ "idempotency-key": idempotencyKeyHeader }) },
  requestBody: {
    required: true,
    content: { "application/json": { schema: OpenAIImageGenerationRequest, example: { prompt: "a lighthouse at dawn", n: 1, size: "512x512", response_format: "url" } } },
  },
  responses: {
    "200": limited(
      {
        description: "The images.",
        content: { "application/json": { schema: OpenAIImagesResponse, example: { created: 1767607200, data: [{ url: "https://images.example.com/lucid-images/7c1d2e3f.png?X-Amz-Signature=…" }] } } },
      },
      { "idempotent-replayed": idempotentReplayed },
    ),
    "400": openAIErrorResponse("Invalid request (`invalid_request_error`)."),
    "401": openAIErrorResponse("Missing, unknown, revoked or expired API key."),
    "402": openAIErrorResponse("The workspace's monthly spend limit would be passed."),
    "403": openAIErrorResponse("The key lacks `generations:write`, or would pass its monthly credit cap."),
    "409": openAIErrorResponse("A request with this `Idempotency-Key` is still being processed."),
    "422": openAIErrorResponse("This `Idempotency-Key` was used with a different request."),
    "429": openAIErrorResponse(
      "Not enough credits (`insufficient_quota`, with `x-should-retry: false`), or a rate or in-flight limit (with `Retry-After`).",
      z.object({ "retry-after": retryAfter.optional(), "x-should-retry": z.string().optional().meta({ description: "`false`: retrying cannot help" }) }),
    ),
    "500": openAIErrorResponse("Server error, or the generation failed (not charged)."),
    "503": openAIErrorResponse("A dependency is unavailable; safe to retry."),
    "504": openAIErrorResponse("The images were not ready within 60 seconds; the generation was canceled and its credits released."),
  },
};

const openApiDocumentOperation: ZodOpenApiOperationObject = {
  operationId: "getOpenApiDocument",
  summary: "This OpenAPI document",
  tags: ["Meta"],
  security: [],
  responses: { "200": { description: "The OpenAPI 3.1 document of /api/v1.", content: { "application/json": { schema: z.record(z.string(), z.unknown()) } } } },
};

// Webhook deliveries are requests Lucid makes, so their body is rendered as
// output (the generation as the API returns it), referenced by hand: used
// inside a request body, zod-openapi would render a second, input Generation.
const webhookDelivery: ZodOpenApiOperationObject = {
  operationId: "generationEvent",
  summary: "Generation event",
  description: [
    `Lucid POSTs \`{ type, timestamp, data }\` (\`data\` is the Generation as the API returns it) to each workspace endpoint subscribed to the event (**Webhooks** settings) and to a generation's \`webhook_url\`. Events: ${WEBHOOK_EVENT_TYPES.map((t) => `\`${t}\``).join(", ")} (\`generation.progress\` every ${WEBHOOK_PROGRESS_EVERY_STEPS} steps).`,
    "Deliveries are signed with the [Standard Webhooks](https://www.standardwebhooks.com/) scheme: verify the raw body with the endpoint's `whsec_…` secret (`webhook_url` deliveries: the workspace's signing secret), e.g. `verifyWebhook(rawBody, headers, secret)` from `@lucid/sdk`. Deduplicate on `webhook-id` (the same on every retry). Deliveries are not ordered: use `timestamp` and `data.status`.",
    "Only a 2xx answer counts; redirects are not followed. Failures are retried with backoff for up to 24 hours.",
  ].join("\n\n"),
  tags: ["Webhooks"],
  security: [],
  requestParams: {
    header: z.object({
      "webhook-id": z.string().meta({ description: "The event's id: the same on every retry", example: "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W" }),
      "webhook-timestamp": z.string().meta({ description: "Unix time (seconds) of this attempt; refuse ones far from now", example: "1767607200" }),
      "webhook-signature": z.string().meta({ description: "`v1,<base64 HMAC-SHA256 of id.timestamp.body>`, space-separated when several", example: "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=" }),
    }),
  },
  requestBody: { required: true, content: { "application/json": { schema: { $ref: "#/components/schemas/WebhookEventPayload" } } } },
  responses: { "200": { description: "Any 2xx acknowledges the delivery; anything else is retried." } },
};

export interface OpenApiOptions {
  /** Origin the API is served at, e.g. `https://lucid.example.com`. */
  serverUrl: string;
}

/** The OpenAPI 3.1 document describing every /api/v1 endpoint. */
export function buildOpenApiDocument({ serverUrl }: OpenApiOptions): oas31.OpenAPIObject {
  const document = createDocument({
    openapi: "3.1.0",
    info: {
      title: "Lucid API",
      version: "v1",
      description: [
        "Text-to-image generation over HTTP. Create an API key under **API keys** and send it as `Authorization: Bearer lucid_sk_…`.",
        "",
        `Keys carry scopes (${API_KEY_SCOPES.map((s) => `\`${s}\``).join(", ")}; all by default) and a per-minute request rate (\`RateLimit-*\` headers on every answer; \`429 rate_limited\` with \`Retry-After\` past it). A workspace may have a limited number of generations queued or running at once (\`429 too_many_in_flight_jobs\`).`,
        "",
        "Errors are RFC 9457 problem JSON (`application/problem+json`) with a stable `code`; bad input lists the offending fields in `errors`. The OpenAI-compatible endpoint answers OpenAI's error body instead.",
        "",
        "Instead of polling, receive webhooks: see **Webhooks** below.",
        "",
        "POSTs that create or change something accept an `Idempotency-Key` header: a retry with the same key and body gets the first answer again instead of a second generation.",
        "",
        `Seeds are integers from 0 to ${MAX_SEED}; \`n\` images use seeds seed, seed+1, …. Cost: one credit per image up to 512×512 pixels and 25 steps, scaled by pixels × steps, rounded up. Credits are reserved at submit, charged when the images are stored, and released if the job fails or is canceled.`,
      ].join("\n"),
    },
    servers: [{ url: serverUrl }],
    security: [{ bearerAuth: [] }],
    tags: [
      { name: "Generations", description: "Submit text-to-image jobs and follow them to their images." },
      { name: "Images", description: "Stored images." },
      { name: "OpenAI compatibility", description: "OpenAI's Images API shape, for existing OpenAI clients." },
      { name: "Meta", description: "About the API and your key." },
      { name: "Webhooks", description: "Signed event deliveries Lucid sends to your endpoints." },
    ],
    paths: {
      "/api/v1/generations": { post: submitGeneration, get: listGenerations },
      "/api/v1/generations/{id}": { get: getGeneration },
      "/api/v1/generations/{id}/events": { get: generationEvents },
      "/api/v1/generations/{id}/cancel": { post: cancelGeneration },
      "/api/v1/generations/{id}/preview": { get: generationPreview },
      "/api/v1/images/{id}": { get: getImage },
      "/api/v1/images/generations": { post: openAIImages },
      "/api/v1/ping": { get: ping },
      "/api/v1/openapi.json": { get: openApiDocumentOperation },
    },
    webhooks: { generationEvent: { post: webhookDelivery } },
    components: {
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          bearerFormat: `${API_KEY_PREFIX}…`,
          description: `A workspace API key (\`${API_KEY_PREFIX}…\`), created under **API keys** and shown once. The studio's own session cookie is also accepted, for the web app (all scopes, no per-key rate).`,
        },
      },
    },
  });
  // The webhook body's components, rendered as output (see webhookDelivery).
  const webhook = createSchema(WebhookEventPayload, { io: "output", openapiVersion: "3.1.0" });
  const schemas = (document.components!.schemas ??= {});
  for (const [id, schema] of Object.entries(webhook.components ?? {})) schemas[id] ??= schema;
  return document;
}
