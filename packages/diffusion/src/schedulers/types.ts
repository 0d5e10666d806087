// The scheduler contract, after diffusers' SchedulerMixin. Outside conformance
// tests import it through the package entry: keep names and shapes stable.

/** Flat row-major tensor. Scheduler math runs in float64 whatever comes in. */
export type Tensor = Float64Array | Float32Array;

/** A diffusers `scheduler_config.json` object; unknown keys are ignored. */
export type SchedulerConfig = Record<string, unknown>;

export type SchedulerName =
  | "euler"
  | "euler_ancestral"
  | "ddim"
  | "lcm"
  | "dpmpp_2m"
  | "dpmpp_2m_karras"
  | "pndm";

export interface StepOptions {
  /** Random tensor (same length as the sample) for stochastic steps. */
  noise?: Tensor;
  /** DDIM eta. */
  eta?: number;
  /**
   * An earlier result of this scheduler whose arrays the caller no longer reads: the
   * step may write its own results into them instead of allocating (Euler, Euler
   * ancestral, DDIM and LCM do). Values are the same either way.
   */
  recycle?: StepResult;
}

export interface StepResult {
  prevSample: Float64Array;
  predOriginalSample?: Float64Array;
  /** LCM: the consistency model's denoised sample (the pipeline's output after the last step). */
  denoised?: Float64Array;
}

export interface Scheduler {
  setTimesteps(numInferenceSteps: number): void;
  timesteps: number[];
  sigmas?: number[];
  initNoiseSigma: number;
  /** True when `step` needs `noise` (euler_ancestral, lcm, ddim with eta > 0). */
  readonly stochastic: boolean;
  /**
   * diffusers' scale_model_input. `out` (the sample's length, either float type),
   * when given, receives the result and is returned: the pipeline scales straight
   * into the UNet's float32 input.
   */
  scaleModelInput<Out extends Tensor = Float64Array>(sample: Tensor, t: number, out?: Out): Out;
  /**
   * One denoising step. It keeps no reference to `modelOutput` or `options.noise`
   * once it returns (a scheduler that needs past model outputs keeps copies), so a
   * caller may refill those arrays for the next step.
   */
  step(modelOutput: Tensor, t: number, sample: Tensor, options?: StepOptions): StepResult;
  /** Adds noise at timestep t (img2img), as diffusers' add_noise. */
  addNoise(original: Tensor, noise: Tensor, t: number): Float64Array;
  /** diffusers' scheduler.order (timesteps per model evaluation); 1 for every scheduler here. */
  readonly order: number;
  /**
   * Index into `timesteps` of the first step that will run (img2img starts part-way),
   * as diffusers' set_begin_index. `setTimesteps` clears it.
   */
  setBeginIndex(beginIndex: number): void;
}
