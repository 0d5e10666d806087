// @lucid/diffusion: Stable Diffusion on onnxruntime-node (tokenizer, schedulers,
// pipeline, model folders) and the project's tiny fixture model.
export { DiffusionEngine } from "./pipeline/engine.ts";
export type {
  EngineOptions,
  ExecutionProvider,
  GenerateOptions,
  GeneratePreview,
  GenerateProgress,
  GenerateRequest,
  GenerateResult,
  GeneratedImage,
  ImageThumbnail,
  ModelInfo,
} from "./pipeline/types.ts";
export { ModelError, PipelineInputError } from "./pipeline/errors.ts";
export { readModelIndex, readModelLayout, schedulerNameFromConfig, type ModelIndex, type ModelLayout } from "./pipeline/model.ts";
export { GaussianNoise, Mulberry32 } from "./pipeline/random.ts";
export { DEFAULT_STRENGTH, THUMBNAIL_MAX_SIDE } from "./pipeline/text-to-image.ts";
export { DEFAULT_PREVIEW_EVERY, PREVIEW_UPSCALE, SD_LATENT_RGB_FACTORS } from "./pipeline/preview.ts";

export { ensureFixtureModel, fixtureFiles, SD15_SCHEDULER_CONFIG, type FixtureOptions, type FixtureSize } from "./fixture/index.ts";

export { loadClipTokenizer, type ClipTokenizer, type ClipEncoding } from "./tokenizer/index.ts";
export {
  createScheduler,
  isSchedulerName,
  SCHEDULER_NAMES,
  type Scheduler,
  type SchedulerConfig,
  type SchedulerName,
  type StepOptions,
  type StepResult,
  type Tensor,
} from "./schedulers/index.ts";

export { formatParameters, readPngText, samplerLabel, withPngText, type GenerationParameters } from "./output/png-parameters.ts";
