import { z } from "zod";
import type { GenerationRequestInput } from "./generation.ts";
import type { FieldError } from "./problem.ts";

// OpenAI Images API compatibility: POST /api/v1/images/generations speaks the
// shape of https://api.openai.com/v1/images/generations so unchanged OpenAI
// clients work against Lucid with only their base URL changed.

/** The sizes OpenAI's dall-e-2 offers; any other "WxH" with sides that are multiples of 8 in 64..1024 works too. */
export const OPENAI_IMAGE_SIZES = ["256x256", "512x512", "1024x1024"] as const;
const SIDE_MIN = 64;
const SIDE_MAX = 1024;
const SIZE_RULE = `must be 256x256, 512x512, 1024x1024, auto, or WxH with sides that are multiples of 8 from ${SIDE_MIN} to ${SIDE_MAX}`;

/** Width and height of an OpenAI `size`; null when it is not one Lucid can make. `auto` is 512x512. */
export function parseOpenAIImageSize(size: string): { width: number; height: number } | null {
  if (size === "auto") return { width: 512, height: 512 };
  const m = /^(\d{2,4})x(\d{2,4})$/.exec(size);
  if (!m) return null;
  const [width, height] = [Number(m[1]), Number(m[2])];
  const ok = (v: number) => v >= SIDE_MIN && v <= SIDE_MAX && v % 8 === 0;
  return ok(width) && ok(height) ? { width, height } : null;
}

/**
 * Body of POST /api/v1/images/generations. `model` is accepted and ignored:
 * whatever it names ("dall-e-2", which OpenAI clients send by default,
 * "dall-e-3", "gpt-image-1" or the served model's id), the served model draws.
 * `quality`, `style` and `user` are accepted and ignored. Unknown fields are
 * dropped, as newer clients send parameters older servers do not know.
 */
export const OpenAIImageGenerationRequest = z.object({
  prompt: z.string({ error: "is required" }).trim().min(1, "must not be empty").max(2000, "must be at most 2000 characters"),
  model: z.string().max(100, "must be at most 100 characters").nullish(),
  n: z.number({ error: "must be a number" }).int("must be an integer").min(1, "must be at least 1").max(4, "must be at most 4").nullish(),
  size: z
    .string({ error: SIZE_RULE })
    .refine((s) => parseOpenAIImageSize(s) !== null, SIZE_RULE)
    .nullish(),
  response_format: z.enum(["url", "b64_json"], { error: "must be url or b64_json" }).nullish(),
  user: z.string().max(256, "must be at most 256 characters").nullish(),
  quality: z.string().nullish(),
  style: z.string().nullish(),
  stream: z.literal(false, { error: "streaming is not supported" }).nullish(),
});
export type OpenAIImageGenerationRequest = z.output<typeof OpenAIImageGenerationRequest>;

/**
 * The Lucid generation an OpenAI images request stands for, with the
 * platform's defaults for steps, guidance and seed. Without `size` it is
 * Lucid's default 512x512 (Stable Diffusion's native size), not OpenAI's 1024x1024.
 */
export function openAIImageRequestToGeneration(req: OpenAIImageGenerationRequest): GenerationRequestInput {
  const size = req.size ? parseOpenAIImageSize(req.size)! : undefined;
  return { prompt: req.prompt, ...size, n: req.n ?? 1 };
}

export const OpenAIImage = z.union([
  z.object({ url: z.string().describe("Signed URL of the PNG, valid for one hour") }),
  z.object({ b64_json: z.string().describe("The PNG, base64-encoded") }),
]);

/** Answer of POST /api/v1/images/generations. */
export const OpenAIImagesResponse = z.object({
  created: z.number().int().describe("Unix time (seconds) the generation was created"),
  data: z.array(OpenAIImage),
});
export type OpenAIImagesResponse = z.infer<typeof OpenAIImagesResponse>;

/** OpenAI's error body, which the OpenAI-compatible endpoint answers instead of problem JSON. */
export const OpenAIError = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    param: z.string().nullable(),
    code: z.string().nullable(),
  }),
});
export type OpenAIError = z.infer<typeof OpenAIError>;

/**
 * OpenAI's rendering of a Lucid error (its stable `code` and HTTP status).
 * Not enough credits is OpenAI's `429 insufficient_quota`, the closest match
 * and what OpenAI clients already handle. `retry: false` means the answer
 * should carry `x-should-retry: false`, which the official clients honour:
 * retrying would submit (and maybe charge for) another generation.
 */
export function toOpenAIError(err: { code: string; status: number; message: string; fields?: FieldError[] }): {
  status: number;
  body: OpenAIError;
  retry: boolean;
} {
  const param = err.fields?.[0]?.field ?? null;
  const message = err.fields?.length ? err.fields.map((f) => `${f.field} ${f.message}`).join("; ") : err.message;
  const body = (type: string, code: string | null, p: string | null = null): OpenAIError => ({ error: { message, type, param: p, code } });
  if (err.code === "insufficient_credits") return { status: 429, body: body("insufficient_quota", "insufficient_quota"), retry: false };
  if (err.code === "invalid_api_key") return { status: 401, body: body("invalid_request_error", "invalid_api_key"), retry: false };
  if (err.status === 401) return { status: 401, body: body("invalid_request_error", null), retry: false };
  if (err.status >= 400 && err.status < 500) {
    return { status: err.status, body: body("invalid_request_error", err.code === "validation_failed" ? "invalid_value" : err.code, param), retry: false };
  }
  if (err.status === 503) return { status: 503, body: body("server_error", err.code), retry: true };
  return { status: err.status, body: body("server_error", err.code), retry: false };
}
