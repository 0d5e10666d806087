import { z } from "zod";

/** Image sides must be multiples of 8: the VAE downsamples by 8. */
const imageSide = z
  .number({ error: "must be a number" })
  .int("must be an integer")
  .min(64, "must be at least 64")
  .max(1024, "must be at most 1024")
  .refine((v) => v % 8 === 0, "must be a multiple of 8");

export const MAX_SEED = 2 ** 32 - 1;

/** An http(s) URL for webhook deliveries; where it may point is checked by the server (no private addresses). */
export const WebhookUrl = z
  .string({ error: "is required" })
  .trim()
  .max(2000, "must be at most 2000 characters")
  .pipe(z.url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" }));

const GenerationRequestFields = z
  .object({
    prompt: z.string({ error: "is required" }).trim().min(1, "must not be empty").max(2000, "must be at most 2000 characters").meta({ description: "What to draw. Past the text encoder's 75 tokens it is cut (`prompt_truncated`).", example: "a lighthouse at dawn, oil painting" }),
    negative_prompt: z.string().max(2000, "must be at most 2000 characters").default("").meta({ description: "What to steer away from" }),
    // Omitted size, steps and guidance take the served model's defaults (models.json).
    width: imageSide.optional().meta({ description: "Pixels, a multiple of 8 from 64 to 1024; omitted: the served model's default", example: 512 }),
    height: imageSide.optional().meta({ description: "Pixels, a multiple of 8 from 64 to 1024; omitted: the served model's default", example: 512 }),
    steps: z.number().int("must be an integer").min(1, "must be at least 1").max(50, "must be at most 50").optional().meta({ description: "Denoising steps; omitted: the served model's default", example: 20 }),
    guidance: z.number().min(0, "must be at least 0").max(20, "must be at most 20").optional().meta({ description: "Classifier-free guidance scale; omitted: the served model's default", example: 7.5 }),
    seed: z.number().int("must be an integer").min(0, "must be at least 0").max(MAX_SEED, `must be at most ${MAX_SEED}`).optional().meta({ description: "Same seed and parameters, same image; omitted: random. Image k of `n` uses seed + k.", example: 42 }),
    n: z.number().int("must be an integer").min(1, "must be at least 1").max(4, "must be at most 4").default(1).meta({ description: "Images to make (each costs its credits)" }),
    model: z.string().min(1).max(100).optional().meta({ description: "The served model's id; another is `400 unknown_model`" }),
    /** Image-to-image ("variations"): an image the caller may see (their own or public). */
    init_image_id: z.string().uuid("must be an image id").optional().meta({ description: "Image to image (variations): an image the caller may see (their own or public)" }),
    /** How far from the init image to go: 1 ignores it, small values change little. */
    strength: z.number().gt(0, "must be greater than 0").max(1, "must be at most 1").optional().meta({ description: "With `init_image_id`: how far from it to go (1 ignores it, small values change little)" }),
    /** Receives this generation's events (signed with the workspace's webhook signing secret). */
    webhook_url: WebhookUrl.optional().meta({ description: "Receives this generation's webhook events, signed with the workspace's signing secret" }),
  })
  .strict();

/** Body of POST /api/v1/generations (and the studio's form). */
export const GenerationRequest = GenerationRequestFields.refine((r) => r.strength === undefined || r.init_image_id !== undefined, {
    message: "needs init_image_id",
    path: ["strength"],
  }).meta({ id: "GenerationRequest", description: "What to draw. Unknown fields are refused." });
export type GenerationRequestInput = z.input<typeof GenerationRequest>;
export type GenerationRequest = z.output<typeof GenerationRequest>;

/** A request after the server fixed its seed and model: what the job stores and the worker runs. */
export const ResolvedGenerationRequest = GenerationRequestFields.extend({
  width: imageSide,
  height: imageSide,
  steps: z.number().int().min(1).max(50),
  guidance: z.number().min(0).max(20),
  seed: z.number().int().min(0).max(MAX_SEED),
  model: z.string().min(1),
});
export type ResolvedGenerationRequest = z.output<typeof ResolvedGenerationRequest>;

/**
 * `queue_position` counts the jobs ahead exactly up to this many; a longer
 * queue reads as this number ("1000 or more"). Bounds the work every queued
 * job's answer costs, however deep the backlog.
 */
export const QUEUE_POSITION_CAP = 1000;

/**
 * Credits a request costs: one credit per image for up to 512×512 pixels and
 * 25 steps, scaled by pixel count and steps, rounded up.
 */
export function creditCost(req: Pick<ResolvedGenerationRequest, "width" | "height" | "steps" | "n">): number {
  const perImage = Math.max(1, Math.ceil(((req.width * req.height) / (512 * 512)) * (req.steps / 25)));
  return perImage * req.n;
}

export const JobStatus = z
  .enum(["queued", "running", "succeeded", "failed", "canceled"])
  .meta({ id: "JobStatus", description: "queued → running → succeeded | failed | canceled (a queued job can also be canceled directly)" });
export type JobStatus = z.infer<typeof JobStatus>;

export const GenerationImage = z.object({
  id: z.string(),
  url: z.string(),
  thumbnail_url: z.string().nullable(),
  width: z.number().int(),
  height: z.number().int(),
  seed: z.number().int(),
  content_type: z.string(),
}).meta({
  id: "GenerationImage",
  description: "One stored image. `url` and `thumbnail_url` are stable public URLs once the image is published, otherwise signed URLs valid for one hour.",
});

/** The job object the API returns for every generation. */
export const Generation = z.object({
  id: z.string(),
  object: z.literal("generation"),
  status: JobStatus,
  request: ResolvedGenerationRequest,
  progress: z.object({ step: z.number().int(), total: z.number().int(), preview_url: z.string().nullable() }).meta({ description: "Steps done of `total`; `preview_url`: the newest live preview while running" }),
  prompt_truncated: z.boolean().meta({ description: "The prompt was longer than the text encoder's 75 tokens and was cut" }),
  images: z.array(GenerationImage).meta({ description: "Once succeeded: the images, in seed order" }),
  error: z.object({ code: z.string(), message: z.string() }).nullable().meta({ description: "Why it failed or was canceled; null otherwise" }),
  credits_reserved: z.number().int().meta({ description: "Credits held when it was accepted" }),
  credits_charged: z.number().int().meta({ description: "Credits spent (once its images are stored)" }),
  credits_released: z.number().int().meta({ description: "Credits given back (it failed or was canceled)" }),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  /** Queued jobs created before this one across the platform (0 = next), counted up to QUEUE_POSITION_CAP (that number means "at least that many"); null unless queued. */
  queue_position: z.number().int().min(0).max(QUEUE_POSITION_CAP).nullable(),
  status_url: z.string().meta({ description: "GET this for the generation's current state" }),
  cancel_url: z.string().meta({ description: "POST here to cancel it" }),
  events_url: z.string().meta({ description: "Server-sent events: every status change and progress step" }),
}).meta({ id: "Generation", description: "A generation job: its request as run (seed and model fixed), progress, images and credits." });
export type Generation = z.infer<typeof Generation>;

export const CancelOutcome = z.enum(["canceled", "cancellation_requested", "already_finished"]).meta({ id: "CancelOutcome" });
export type CancelOutcome = z.infer<typeof CancelOutcome>;
