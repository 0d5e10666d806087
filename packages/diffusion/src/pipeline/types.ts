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
}

export interface GenerateProgress {
  step: number;
  total: number;
}

export interface GenerateOptions {
  onProgress?: (progress: GenerateProgress) => void;
  /** Aborting rejects the generation with an AbortError between denoising steps. */
  signal?: AbortSignal;
}

export interface GeneratedImage {
  png: Buffer;
  width: number;
  height: number;
  seed: number;
}

export interface GenerateResult {
  images: GeneratedImage[];
  /** The prompt had more tokens than the text encoder takes and was cut. */
  promptTruncated: boolean;
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
