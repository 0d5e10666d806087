import { z } from "zod";
import { createDocument, type oas31, type ZodOpenApiOperationObject, type ZodOpenApiResponseObject } from "zod-openapi";
import { CancelOutcome, Generation, GenerationRequest, MAX_SEED } from "./generation.ts";
import { GenerationList as GenerationListContract, GenerationListQuery, GENERATION_EVENT, MAX_PREFER_WAIT_SECONDS } from "./generation-list.ts";
import * as openai from "./openai.ts";
import { Problem } from "./problem.ts";

// The OpenAPI 3.1 document of /api/v1, generated from the zod contracts the
// route handlers parse with (zod-openapi), so it cannot drift from them. Only
// what the routes implement is described here.

/**
 * Every stable problem `code` and the HTTP status it is sent with. Mirrors
 * ERROR_STATUS in @lucid/core (a contracts test keeps the two equal): the
 * contracts package cannot import the domain.
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

const unauthorized = problemResponse("No credentials, or an unknown or revoked API key.", ["unauthenticated", "invalid_api_key"]);
const notFound = problemResponse("No such generation in the caller's workspace (other workspaces' generations are not found either).", ["not_found"]);
const internal = problemResponse("Unexpected server error; internals are hidden and nothing was charged.", ["internal"]);

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

const submitGeneration: ZodOpenApiOperationObject = {
  operationId: "createGeneration",
  summary: "Submit a generation",
  description:
    "Reserves the credits the request costs (see `creditCost`) and queues the job. The answer is the generation object; poll `GET /api/v1/generations/{id}`, stream `GET /api/v1/generations/{id}/events`, or send `Prefer: wait=N` to get the finished result in this response. `Idempotency-Key` is planned and not supported yet: a retried POST submits (and charges for) another generation.",
  tags: ["Generations"],
  requestParams: { header: z.object({ prefer: preferHeader }) },
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
    "200": {
      description: "With `Prefer: wait=N`: the generation reached a terminal state (succeeded, failed or canceled) within the wait.",
      headers: z.object({ "preference-applied": z.string().meta({ description: "`wait=N` when the preference was honoured", example: "wait=30" }) }),
      content: generationJson({ succeeded: { value: EXAMPLE_GENERATIONS.succeeded } }),
    },
    "202": {
      description: "Accepted and queued (or, with `Prefer: wait=N`, still not finished when the wait ran out).",
      headers: z.object({ location: z.string().meta({ description: "URL of the generation", example: `/api/v1/generations/${EXAMPLE_ID}` }) }),
      content: generationJson({ queued: { value: EXAMPLE_GENERATIONS.queued } }),
    },
    "400": problemResponse("The body is not JSON, a field is invalid (listed in `errors`), or the model is not served.", ["validation_failed", "invalid_json", "unknown_model"]),
    "401": unauthorized,
    "402": problemResponse("The workspace's balance does not cover the request's cost (or the workspace owes credits after a refund), or the request would pass the workspace's monthly spend limit; nothing was queued.", ["insufficient_credits", "spend_limit_reached"]),
    "404": problemResponse("`init_image_id` names no image the caller may see.", ["not_found"]),
    "500": internal,
    "503": problemResponse("The queue or database is unavailable; nothing was charged.", ["service_unavailable"]),
  },
};

const listGenerations: ZodOpenApiOperationObject = {
  operationId: "listGenerations",
  summary: "List generations",
  description: "The workspace's generations, newest first, keyset-paginated: pass `next_cursor` as `cursor` for the next page.",
  tags: ["Generations"],
  requestParams: { query: GenerationListQuery },
  responses: {
    "200": {
      description: "A page of generations; `next_cursor` is null on the last page.",
      content: { "application/json": { schema: GenerationList, examples: { page: { value: { object: "list", data: [EXAMPLE_GENERATIONS.succeeded], next_cursor: null } } } } },
    },
    "400": problemResponse("`limit`, `cursor` or `status` is invalid.", ["validation_failed"]),
    "401": unauthorized,
    "500": internal,
  },
};

const getGeneration: ZodOpenApiOperationObject = {
  operationId: "getGeneration",
  summary: "Get a generation",
  description: "Its status, progress and, once succeeded, its images as signed URLs valid for one hour.",
  tags: ["Generations"],
  requestParams: { path: idPath },
  responses: {
    "200": { description: "The generation.", content: generationJson({ succeeded: { value: EXAMPLE_GENERATIONS.succeeded }, queued: { value: EXAMPLE_GENERATIONS.queued } }) },
    "401": unauthorized,
    "404": notFound,
    "500": internal,
  },
};

const generationEvents: ZodOpenApiOperationObject = {
  operationId: "streamGenerationEvents",
  summary: "Stream a generation's events (SSE)",
  description: `Server-sent events: every status change and progress step is an \`event: ${GENERATION_EVENT}\` whose \`data\` is the full Generation object (JSON) and whose \`id\` counts up from 1. \`: keep-alive\` comments keep idle connections open. The stream ends after the terminal state.`,
  tags: ["Generations"],
  requestParams: { path: idPath },
  responses: {
    "200": {
      description: `An \`text/event-stream\`; each event's \`data\` is a Generation.`,
      content: {
        "text/event-stream": {
          schema: z.string().meta({ description: "SSE stream; see the Generation schema for each event's data" }),
          example: `id: 1\nevent: ${GENERATION_EVENT}\ndata: {"id":"${EXAMPLE_ID}","object":"generation","status":"running",…}\n\n`,
        },
      },
    },
    "401": unauthorized,
    "404": notFound,
    "500": internal,
  },
};

const cancelGeneration: ZodOpenApiOperationObject = {
  operationId: "cancelGeneration",
  summary: "Cancel a generation",
  description: "A queued generation is canceled at once and its credits released; a running one stops at its next step (202); a finished one is left as it is.",
  tags: ["Generations"],
  requestParams: { path: idPath },
  responses: {
    "200": {
      description: "`canceled` or `already_finished`.",
      content: { "application/json": { schema: CancelResult, examples: { canceled: { value: { outcome: "canceled", generation: { ...EXAMPLE_GENERATIONS.queued, status: "canceled", credits_released: 1, queue_position: null, finished_at: "2026-01-05T10:00:02.000Z" } } } } } },
    },
    "202": { description: "`cancellation_requested`: it is running and stops at its next step.", content: { "application/json": { schema: CancelResult } } },
    "401": unauthorized,
    "404": notFound,
    "500": internal,
  },
};

const generationPreview: ZodOpenApiOperationObject = {
  operationId: "getGenerationPreview",
  summary: "Live preview of a running generation",
  description: "The newest low-resolution preview (WebP) of a running generation; `progress.preview_url` links here.",
  tags: ["Generations"],
  requestParams: { path: idPath, query: z.object({ step: z.string().optional().meta({ description: "Cache-buster the server adds: the step the preview shows" }) }) },
  responses: {
    "200": { description: "The preview image.", content: { "image/webp": { schema: z.string().meta({ format: "binary" }) } } },
    "401": unauthorized,
    "404": problemResponse("No such generation, or it has no preview yet.", ["not_found"]),
    "500": internal,
  },
};

const openAIErrorResponse = (description: string): ZodOpenApiResponseObject => ({
  description,
  content: { "application/json": { schema: OpenAIError } },
});

const openAIImages: ZodOpenApiOperationObject = {
  operationId: "createImageOpenAI",
  summary: "Create images (OpenAI-compatible)",
  description:
    "Speaks OpenAI's `POST /v1/images/generations`, so OpenAI clients work with only their base URL changed (`baseURL: \"<origin>/api/v1\"`, the Lucid key as API key). Waits for the images. `model`, `quality`, `style` and `user` are accepted and ignored; errors use OpenAI's error body, and not enough credits is `429 insufficient_quota`.",
  tags: ["OpenAI compatibility"],
  requestBody: {
    required: true,
    content: { "application/json": { schema: OpenAIImageGenerationRequest, example: { prompt: "a lighthouse at dawn", n: 1, size: "512x512", response_format: "url" } } },
  },
  responses: {
    "200": {
      description: "The images.",
      content: { "application/json": { schema: OpenAIImagesResponse, example: { created: 1767607200, data: [{ url: "https://images.example.com/lucid-images/7c1d2e3f.png?X-Amz-Signature=…" }] } } },
    },
    "400": openAIErrorResponse("Invalid request (`invalid_request_error`)."),
    "401": openAIErrorResponse("Missing or invalid API key."),
    "429": openAIErrorResponse("Not enough credits (`insufficient_quota`); the answer carries `x-should-retry: false`."),
    "500": openAIErrorResponse("Server error."),
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

export interface OpenApiOptions {
  /** Origin the API is served at, e.g. `https://lucid.example.com`. */
  serverUrl: string;
}

/** The OpenAPI 3.1 document describing every /api/v1 endpoint. */
export function buildOpenApiDocument({ serverUrl }: OpenApiOptions): oas31.OpenAPIObject {
  return createDocument({
    openapi: "3.1.0",
    info: {
      title: "Lucid API",
      version: "v1",
      description: [
        "Text-to-image generation over HTTP. Create an API key under **API keys** and send it as `Authorization: Bearer lucid_sk_…`.",
        "",
        "Errors are RFC 9457 problem JSON (`application/problem+json`) with a stable `code`; bad input lists the offending fields in `errors`. The OpenAI-compatible endpoint answers OpenAI's error body instead.",
        "",
        `Seeds are integers from 0 to ${MAX_SEED}; \`n\` images use seeds seed, seed+1, …. Cost: one credit per image up to 512×512 pixels and 25 steps, scaled by pixels × steps, rounded up. Credits are reserved at submit, charged when the images are stored, and released if the job fails or is canceled.`,
        "",
        "Webhooks (Standard Webhooks signatures, verifiable with `verifyWebhook` in `@lucid/sdk`) are planned; the server does not send them yet.",
      ].join("\n"),
    },
    servers: [{ url: serverUrl }],
    security: [{ bearerAuth: [] }],
    tags: [
      { name: "Generations", description: "Submit text-to-image jobs and follow them to their images." },
      { name: "OpenAI compatibility", description: "OpenAI's Images API shape, for existing OpenAI clients." },
      { name: "Meta", description: "About the API itself." },
    ],
    paths: {
      "/api/v1/generations": { post: submitGeneration, get: listGenerations },
      "/api/v1/generations/{id}": { get: getGeneration },
      "/api/v1/generations/{id}/events": { get: generationEvents },
      "/api/v1/generations/{id}/cancel": { post: cancelGeneration },
      "/api/v1/generations/{id}/preview": { get: generationPreview },
      "/api/v1/images/generations": { post: openAIImages },
      "/api/v1/openapi.json": { get: openApiDocumentOperation },
    },
    components: {
      securitySchemes: {
        bearerAuth: {
          type: "http",
          scheme: "bearer",
          bearerFormat: `${API_KEY_PREFIX}…`,
          description: `A workspace API key (\`${API_KEY_PREFIX}…\`), created under **API keys** and shown once. The studio's own session cookie is also accepted, for the web app.`,
        },
      },
    },
  });
}
