// @lucid/diffusion: Stable Diffusion on onnxruntime-node (tokenizer, schedulers,
// pipeline, model folders) and the project's tiny fixture model.
export { DiffusionEngine } from "./pipeline/engine.ts";
export type {
  EngineOptions,
  ExecutionProvider,
  GenerateOptions,
  GenerateProgress,
  GenerateRequest,
  GenerateResult,
  GeneratedImage,
  ModelInfo,
} from "./pipeline/types.ts";
export { ModelError, PipelineInputError } from "./pipeline/errors.ts";
export { readModelIndex, readModelLayout, schedulerNameFromConfig, type ModelIndex, type ModelLayout } from "./pipeline/model.ts";
export { GaussianNoise, Mulberry32 } from "./pipeline/random.ts";

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
