// DDIMScheduler (diffusers): denoising diffusion implicit models, eta = 0
// deterministic, eta > 0 adds DDPM-like noise.
import { DiffusersScheduler, NOISE_SCHEDULE_DEFAULTS } from "./base.ts";
import {
  checkPredictionType,
  checkSpacing,
  npLinspace,
  resolveConfig,
  roundHalfEven,
  spacedTimesteps,
  toFloat64,
} from "./noise-schedule.ts";
import type { SchedulerConfig, StepOptions, StepResult, Tensor } from "./types.ts";

const DDIM_DEFAULTS = {
  ...NOISE_SCHEDULE_DEFAULTS,
  clip_sample: true,
  set_alpha_to_one: true,
  steps_offset: 0,
  prediction_type: "epsilon",
  thresholding: false,
  clip_sample_range: 1.0,
  timestep_spacing: "leading",
  rescale_betas_zero_snr: false,
};

export type DdimConfig = typeof DDIM_DEFAULTS;

/** Integer inference timesteps of the DDIM/PNDM family (descending). */
export function integerTimesteps(
  spacing: string,
  numTrainTimesteps: number,
  numInferenceSteps: number,
  stepsOffset: number,
): number[] {
  if (checkSpacing(spacing) === "linspace") {
    return npLinspace(0, numTrainTimesteps - 1, numInferenceSteps).map(roundHalfEven).reverse();
  }
  return spacedTimesteps(spacing as "leading" | "trailing", numTrainTimesteps, numInferenceSteps, stepsOffset);
}

export class DdimScheduler extends DiffusersScheduler {
  readonly config: DdimConfig;
  /** Default eta for steps that do not pass options.eta (diffusers pipelines pass eta to every step). */
  eta = 0;
  private readonly finalAlphaCumprod: number;

  constructor(config: SchedulerConfig = {}) {
    const resolved = resolveConfig(DDIM_DEFAULTS, config);
    super("DDIMScheduler", resolved, resolved.rescale_betas_zero_snr);
    this.config = resolved;
    checkPredictionType(resolved.prediction_type, ["epsilon", "sample", "v_prediction"], this.name);
    checkSpacing(resolved.timestep_spacing);
    if (resolved.thresholding) throw new Error(`${this.name}: dynamic thresholding is not supported`);
    this.finalAlphaCumprod = resolved.set_alpha_to_one ? 1 : this.alphasCumprod[0]!;
    this.timesteps = Array.from({ length: resolved.num_train_timesteps }, (_, i) => resolved.num_train_timesteps - 1 - i);
  }

  get stochastic(): boolean {
    return this.eta > 0;
  }

  setTimesteps(numInferenceSteps: number): void {
    const c = this.config;
    if (numInferenceSteps > c.num_train_timesteps) {
      throw new Error(`${this.name}: num_inference_steps ${numInferenceSteps} exceeds num_train_timesteps ${c.num_train_timesteps}`);
    }
    this.resetRun(numInferenceSteps);
    this.timesteps = integerTimesteps(c.timestep_spacing, c.num_train_timesteps, numInferenceSteps, c.steps_offset);
  }

  private alphaProd(t: number): number {
    return t >= 0 ? this.alphasCumprod[t]! : this.finalAlphaCumprod;
  }

  step(modelOutput: Tensor, t: number, sample: Tensor, options?: StepOptions): StepResult {
    const numInferenceSteps = this.requireTimesteps();
    const c = this.config;
    const eta = options?.eta ?? this.eta;
    const x = toFloat64(sample, sample.length, "sample");
    const out = toFloat64(modelOutput, x.length, "modelOutput");
    const prevT = t - Math.floor(c.num_train_timesteps / numInferenceSteps);
    const alphaProdT = this.alphaProd(t);
    const alphaProdPrev = this.alphaProd(prevT);
    const betaProdT = 1 - alphaProdT;
    const variance = ((1 - alphaProdPrev) / betaProdT) * (1 - alphaProdT / alphaProdPrev);
    const stdDev = eta * Math.sqrt(variance);
    const noise = eta > 0 ? this.requireNoise(options, x.length) : null;
    const directionScale = Math.sqrt(1 - alphaProdPrev - stdDev ** 2);
    const range = c.clip_sample_range;

    const predOriginalSample = this.resultArray(options?.recycle?.predOriginalSample, x.length, x, out, noise);
    const prevSample = this.resultArray(options?.recycle?.prevSample, x.length, x, out, noise, predOriginalSample);
    for (let i = 0; i < x.length; i++) {
      let x0: number;
      let predEpsilon: number;
      if (c.prediction_type === "epsilon") {
        x0 = (x[i]! - Math.sqrt(betaProdT) * out[i]!) / Math.sqrt(alphaProdT);
        predEpsilon = out[i]!;
      } else if (c.prediction_type === "sample") {
        x0 = out[i]!;
        predEpsilon = (x[i]! - Math.sqrt(alphaProdT) * x0) / Math.sqrt(betaProdT);
      } else {
        x0 = Math.sqrt(alphaProdT) * x[i]! - Math.sqrt(betaProdT) * out[i]!;
        predEpsilon = Math.sqrt(alphaProdT) * out[i]! + Math.sqrt(betaProdT) * x[i]!;
      }
      if (c.clip_sample) x0 = Math.min(Math.max(x0, -range), range);
      predOriginalSample[i] = x0;
      let prev = Math.sqrt(alphaProdPrev) * x0 + directionScale * predEpsilon;
      if (noise) prev += stdDev * noise[i]!;
      prevSample[i] = prev;
    }
    return { prevSample, predOriginalSample };
  }
}
