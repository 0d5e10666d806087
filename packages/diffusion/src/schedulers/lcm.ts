// LCMScheduler (diffusers): latent consistency model multistep sampling. Each
// step predicts the clean latent (`denoised`) and re-noises it to the next
// timestep, except the last.
import { DiffusersScheduler, NOISE_SCHEDULE_DEFAULTS } from "./base.ts";
import { checkPredictionType, npLinspace, resolveConfig, toFloat64 } from "./noise-schedule.ts";
import type { SchedulerConfig, StepOptions, StepResult, Tensor } from "./types.ts";

const LCM_DEFAULTS = {
  ...NOISE_SCHEDULE_DEFAULTS,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: "scaled_linear",
  original_inference_steps: 50,
  clip_sample: false,
  clip_sample_range: 1.0,
  set_alpha_to_one: true,
  steps_offset: 0,
  prediction_type: "epsilon",
  thresholding: false,
  timestep_spacing: "leading",
  timestep_scaling: 10.0,
  rescale_betas_zero_snr: false,
};

export type LcmConfig = typeof LCM_DEFAULTS;

/** Consistency-model boundary condition: c_skip·x + c_out·x0 with sigma_data 0.5. */
function boundaryScalings(t: number, timestepScaling: number): { cSkip: number; cOut: number } {
  const sigmaData = 0.5;
  const scaled = t * timestepScaling;
  return {
    cSkip: sigmaData ** 2 / (scaled ** 2 + sigmaData ** 2),
    cOut: scaled / Math.sqrt(scaled ** 2 + sigmaData ** 2),
  };
}

export class LcmScheduler extends DiffusersScheduler {
  readonly stochastic = true;
  readonly config: LcmConfig;
  private readonly finalAlphaCumprod: number;

  constructor(config: SchedulerConfig = {}) {
    const resolved = resolveConfig(LCM_DEFAULTS, config);
    super("LCMScheduler", resolved, resolved.rescale_betas_zero_snr);
    this.config = resolved;
    checkPredictionType(resolved.prediction_type, ["epsilon", "sample", "v_prediction"], this.name);
    if (resolved.thresholding) throw new Error(`${this.name}: dynamic thresholding is not supported`);
    this.finalAlphaCumprod = resolved.set_alpha_to_one ? 1 : this.alphasCumprod[0]!;
    this.timesteps = Array.from({ length: resolved.num_train_timesteps }, (_, i) => resolved.num_train_timesteps - 1 - i);
  }

  /**
   * Picks `numInferenceSteps` of the distillation schedule (every k-th training
   * step, k = num_train_timesteps / original_inference_steps). `strength` < 1
   * (img2img) shortens that schedule as diffusers does.
   */
  setTimesteps(numInferenceSteps: number, originalInferenceSteps?: number, strength = 1): void {
    const c = this.config;
    const originalSteps = originalInferenceSteps ?? c.original_inference_steps;
    if (originalSteps > c.num_train_timesteps) {
      throw new Error(`${this.name}: original_inference_steps ${originalSteps} exceeds num_train_timesteps ${c.num_train_timesteps}`);
    }
    if (numInferenceSteps > c.num_train_timesteps) {
      throw new Error(`${this.name}: num_inference_steps ${numInferenceSteps} exceeds num_train_timesteps ${c.num_train_timesteps}`);
    }
    const k = Math.floor(c.num_train_timesteps / originalSteps);
    const origin = Array.from({ length: Math.trunc(originalSteps * strength) }, (_, i) => (i + 1) * k - 1);
    const skippingStep = Math.floor(origin.length / numInferenceSteps);
    if (skippingStep < 1) {
      throw new Error(
        `${this.name}: num_inference_steps ${numInferenceSteps} must be at most original_inference_steps × strength (${origin.length})`,
      );
    }
    if (numInferenceSteps > originalSteps) {
      throw new Error(`${this.name}: num_inference_steps ${numInferenceSteps} exceeds original_inference_steps ${originalSteps}`);
    }
    this.resetRun(numInferenceSteps);
    origin.reverse();
    this.timesteps = npLinspace(0, origin.length, numInferenceSteps, false).map((index) => origin[Math.floor(index)]!);
  }

  step(modelOutput: Tensor, t: number, sample: Tensor, options?: StepOptions): StepResult {
    const index = this.currentStepIndex(t);
    const c = this.config;
    const x = toFloat64(sample, sample.length, "sample");
    const out = toFloat64(modelOutput, x.length, "modelOutput");
    const prevT = index + 1 < this.timesteps.length ? this.timesteps[index + 1]! : t;
    const alphaProdT = this.alphasCumprod[t]!;
    const alphaProdPrev = prevT >= 0 ? this.alphasCumprod[prevT]! : this.finalAlphaCumprod;
    const betaProdT = 1 - alphaProdT;
    const betaProdPrev = 1 - alphaProdPrev;
    const { cSkip, cOut } = boundaryScalings(t, c.timestep_scaling);
    // Noise is not used on the schedule's final timestep (nor for one-step sampling).
    const last = index === this.numInferenceSteps! - 1;
    const noise = last ? null : this.requireNoise(options, x.length);
    const range = c.clip_sample_range;

    const recycle = options?.recycle;
    const denoised = this.resultArray(recycle?.denoised, x.length, x, out, noise);
    const predOriginalSample = this.resultArray(recycle?.predOriginalSample, x.length, x, out, noise, denoised);
    const prevSample = this.resultArray(recycle?.prevSample, x.length, x, out, noise, denoised, predOriginalSample);
    for (let i = 0; i < x.length; i++) {
      let x0 =
        c.prediction_type === "epsilon"
          ? (x[i]! - Math.sqrt(betaProdT) * out[i]!) / Math.sqrt(alphaProdT)
          : c.prediction_type === "sample"
            ? out[i]!
            : Math.sqrt(alphaProdT) * x[i]! - Math.sqrt(betaProdT) * out[i]!;
      if (c.clip_sample) x0 = Math.min(Math.max(x0, -range), range);
      predOriginalSample[i] = x0;
      const d = cOut * x0 + cSkip * x[i]!;
      denoised[i] = d;
      prevSample[i] = noise ? Math.sqrt(alphaProdPrev) * d + Math.sqrt(betaProdPrev) * noise[i]! : d;
    }
    this.stepIndex = index + 1;
    return { prevSample, predOriginalSample, denoised };
  }
}
