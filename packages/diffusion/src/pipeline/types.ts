import type { SchedulerName } from "../schedulers/types.ts";

export type ExecutionProvider = "cpu" | "cuda";

export interface EngineOptions {
  /** "cuda" tries CUDA and falls back to CPU (with a warning) when it cannot load. Default "cpu". */
  executionProvider?: ExecutionProvider;
  /**
   * Run the unconditional and conditional halves of classifier-free guidance in one
   * UNet call when the model's batch axis is dynamic (diffusers' behaviour). Default true;
   * false runs two passes per step (what a fixed-batch export forces anyway).
   */
  batchGuidance?: boolean;
  /** Receives non-fatal problems (e.g. the CUDA fallback). Default: process.emitWarning. */
  onWarning?: (message: string) => void;
}

export interface GenerateRequest {
  /** A Hugging Face ONNX Stable Diffusion folder (model_index.json, text_encoder/, unet/, ...). */
  modelDir: string;
  prompt: string;
  /** Steers away from this text; "" (the default) is diffusers' unconditional prompt. */
  negativePrompt?: string;
  /** Pixels; multiples of 8. */
  width: number;
  height: number;
  steps: number;
  /** Classifier-free guidance scale; ≤ 1 skips the unconditional pass. */
  guidance: number;
  /** Image i of the request uses seed + i (see random.ts for the generator). */
  seed: number;
  /** Images to make, 1 by default. */
  n?: number;
  /** Defaults to the scheduler named by the model's scheduler_config.json. */
  scheduler?: SchedulerName;
  /**
   * Image-to-image ("variations"): PNG, JPEG or WebP bytes to start from instead of
   * pure noise. Resized to cover width×height (centre crop). Needs vae_encoder/.
   */
  initImage?: Uint8Array;
  /**
   * How far to noise initImage, 0 < strength ≤ 1 (default 0.75): diffusers runs the
   * last floor(steps × strength) of the `steps` timesteps. Only with initImage.
   */
  strength?: number;
}

export interface GenerateProgress {
  step: number;
  total: number;
}

/** A cheap look at a generation in flight: the latents' current denoised estimate. */
export interface GeneratePreview {
  /** Steps done so far (as GenerateProgress.step) and steps this run will take. */
  step: number;
  total: number;
  /** Which of the request's n images this shows (0-based). */
  imageIndex: number;
  /** A small WebP: latent resolution ×2 (128×128 for a 512×512 request). */
  webp: Buffer;
  width: number;
  height: number;
}

export interface GenerateOptions {
  onProgress?: (progress: GenerateProgress) => void;
  /**
   * Live previews, decoded with a linear latent→RGB projection (no VAE pass). Only
   * computed when this is given; needs a 4-channel latent model (SD 1.x/2.x).
   */
  onPreview?: (preview: GeneratePreview) => void;
  /** Preview after every this many steps (default 4), never after the last step. */
  previewEvery?: number;
  /** Aborting rejects the generation with an AbortError between denoising steps. */
  signal?: AbortSignal;
}

export interface GeneratedImage {
  png: Buffer;
  width: number;
  height: number;
  seed: number;
  /** WebP of the final image, longer side at most 256 px (never enlarged), same aspect ratio. */
  thumbnail: ImageThumbnail;
}

export interface ImageThumbnail {
  webp: Buffer;
  width: number;
  height: number;
}

export interface GenerateResult {
  images: GeneratedImage[];
  /** The prompt had more tokens than the text encoder takes and was cut. */
  promptTruncated: boolean;
  /** Same for the negative prompt (reported even when guidance ≤ 1 leaves it unused). */
  negativePromptTruncated: boolean;
}

/** What the engine found when it loaded a model folder. */
export interface ModelInfo {
  dir: string;
  /** Provider the sessions actually run on (after any CUDA → CPU fallback). */
  executionProvider: ExecutionProvider;
  defaultScheduler: SchedulerName;
  /** Text encoder hidden size (= UNet cross-attention width). */
  hiddenSize: number | null;
  latentChannels: number;
  /** Element type the UNet declares for `timestep` (e.g. "int64", "float32"). */
  timestepType: string;
  /** Element type of the UNet's `sample` ("float32" or "float16"). */
  sampleType: string;
  vaeScalingFactor: number;
}
