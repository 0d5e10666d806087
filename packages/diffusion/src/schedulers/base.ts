// State and bookkeeping every scheduler shares, after diffusers' SchedulerMixin:
// the training schedule, the step index found from the first timestep (or set
// by setBeginIndex for img2img), and DDPM-style add_noise.
import {
  cumulativeAlphas,
  indexForTimestep,
  makeBetas,
  rescaleZeroTerminalSnr,
  toFloat64,
  type NoiseScheduleConfig,
  axpby,
  checkLength,
} from "./noise-schedule.ts";
import type { Scheduler, StepOptions, StepResult, Tensor } from "./types.ts";

export const NOISE_SCHEDULE_DEFAULTS: NoiseScheduleConfig = {
  num_train_timesteps: 1000,
  beta_start: 0.0001,
  beta_end: 0.02,
  beta_schedule: "linear",
  trained_betas: null,
};

export abstract class DiffusersScheduler implements Scheduler {
  timesteps: number[] = [];
  initNoiseSigma = 1;
  readonly order = 1;
  abstract readonly stochastic: boolean;
  protected readonly alphasCumprod: number[];
  protected numInferenceSteps: number | null = null;
  protected stepIndex: number | null = null;
  protected beginIndex: number | null = null;

  constructor(
    protected readonly name: string,
    schedule: NoiseScheduleConfig,
    rescaleBetasZeroSnr = false,
  ) {
    const betas = makeBetas(schedule);
    this.alphasCumprod = cumulativeAlphas(rescaleBetasZeroSnr ? rescaleZeroTerminalSnr(betas) : betas);
  }

  abstract setTimesteps(numInferenceSteps: number): void;
  abstract step(modelOutput: Tensor, t: number, sample: Tensor, options?: StepOptions): StepResult;

  setBeginIndex(beginIndex: number): void {
    this.beginIndex = beginIndex;
  }

  /** Clears per-run state; schedulers call it from setTimesteps. */
  protected resetRun(numInferenceSteps: number): void {
    if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1) {
      throw new Error(`${this.name}: num_inference_steps must be a positive integer, got ${numInferenceSteps}`);
    }
    this.numInferenceSteps = numInferenceSteps;
    this.stepIndex = null;
    this.beginIndex = null;
  }

  protected requireTimesteps(): number {
    if (this.numInferenceSteps === null) throw new Error(`${this.name}: call setTimesteps before stepping`);
    return this.numInferenceSteps;
  }

  /** The current step index, found from the first timestep seen like diffusers' _init_step_index. */
  protected currentStepIndex(t: number): number {
    this.requireTimesteps();
    if (this.stepIndex === null) this.stepIndex = this.beginIndex ?? this.indexOf(t);
    return this.stepIndex;
  }

  protected indexOf(t: number): number {
    const index = indexForTimestep(this.timesteps, t);
    if (index === undefined) throw new Error(`${this.name}: timestep ${t} is not in the schedule`);
    return index;
  }

  scaleModelInput<Out extends Tensor = Float64Array>(sample: Tensor, _t: number, out?: Out): Out {
    if (!out) return new Float64Array(sample) as Out;
    checkLength(out, sample.length);
    out.set(sample);
    return out;
  }

  /** Variance-preserving forward process at training step t: sqrt(ᾱ_t)·x0 + sqrt(1-ᾱ_t)·noise. */
  addNoise(original: Tensor, noise: Tensor, t: number): Float64Array {
    const alphaProd = this.alphasCumprod[t];
    if (!Number.isInteger(t) || alphaProd === undefined) {
      throw new Error(`${this.name}: add_noise needs an integer training timestep, got ${t}`);
    }
    const noiseValues = toFloat64(noise, original.length, "noise");
    const a = Math.sqrt(alphaProd);
    const b = Math.sqrt(1 - alphaProd);
    return axpby(a, original, b, noiseValues);
  }

  /**
   * Storage for one array of a step's result: the recycled `spare` when it has the
   * right length and is none of `inUse` (this step's inputs and other results), else new.
   */
  protected resultArray(spare: Float64Array | undefined, length: number, ...inUse: (Tensor | null | undefined)[]): Float64Array {
    return spare instanceof Float64Array && spare.length === length && !inUse.some((x) => x?.buffer === spare.buffer) ? spare : new Float64Array(length);
  }

  protected requireNoise(options: StepOptions | undefined, length: number): Float64Array {
    if (!options?.noise) {
      throw new Error(`${this.name}: this step is stochastic and needs options.noise (a standard normal tensor like the sample)`);
    }
    return toFloat64(options.noise, length, "options.noise");
  }
}
