// EulerAncestralDiscreteScheduler (diffusers): an Euler step down to sigma_down,
// then fresh noise of scale sigma_up (k-diffusion sample_euler_ancestral).
import { NOISE_SCHEDULE_DEFAULTS } from "./base.ts";
import { SigmaScheduler } from "./euler.ts";
import {
  checkPredictionType,
  checkSpacing,
  interpOverIndex,
  resolveConfig,
  spacedTimesteps,
  toFloat64,
  trainingSigmas,
  divideBy,
} from "./noise-schedule.ts";
import type { SchedulerConfig, StepOptions, StepResult, Tensor } from "./types.ts";

const EULER_ANCESTRAL_DEFAULTS = {
  ...NOISE_SCHEDULE_DEFAULTS,
  prediction_type: "epsilon",
  timestep_spacing: "linspace",
  steps_offset: 0,
  rescale_betas_zero_snr: false,
};

export type EulerAncestralConfig = typeof EULER_ANCESTRAL_DEFAULTS;

export class EulerAncestralDiscreteScheduler extends SigmaScheduler {
  readonly stochastic = true;
  readonly config: EulerAncestralConfig;

  constructor(config: SchedulerConfig = {}) {
    const resolved = resolveConfig(EULER_ANCESTRAL_DEFAULTS, config);
    super("EulerAncestralDiscreteScheduler", resolved, resolved.rescale_betas_zero_snr);
    this.config = resolved;
    checkPredictionType(resolved.prediction_type, ["epsilon", "v_prediction"], this.name);
    checkSpacing(resolved.timestep_spacing);
    this.sigmas = [...trainingSigmas(this.alphasCumprod).reverse(), 0];
    this.timesteps = Array.from({ length: resolved.num_train_timesteps }, (_, i) => resolved.num_train_timesteps - 1 - i);
    this.initNoiseSigma = this.initialSigma();
  }

  private initialSigma(): number {
    const maxSigma = Math.max(...this.sigmas);
    const spacing = this.config.timestep_spacing;
    return spacing === "linspace" || spacing === "trailing" ? maxSigma : Math.sqrt(maxSigma ** 2 + 1);
  }

  setTimesteps(numInferenceSteps: number): void {
    this.resetRun(numInferenceSteps);
    const c = this.config;
    const timesteps = spacedTimesteps(checkSpacing(c.timestep_spacing), c.num_train_timesteps, numInferenceSteps, c.steps_offset);
    const training = trainingSigmas(this.alphasCumprod);
    this.sigmas = [...timesteps.map((t) => interpOverIndex(t, training)), 0];
    this.timesteps = timesteps;
    this.initNoiseSigma = this.initialSigma();
  }

  scaleModelInput<Out extends Tensor = Float64Array>(sample: Tensor, t: number, out?: Out): Out {
    const sigma = this.sigmas[this.currentStepIndex(t)]!;
    const scale = Math.sqrt(sigma ** 2 + 1);
    return divideBy(sample, scale, out);
  }

  step(modelOutput: Tensor, t: number, sample: Tensor, options?: StepOptions): StepResult {
    const index = this.currentStepIndex(t);
    const x = toFloat64(sample, sample.length, "sample");
    const eps = toFloat64(modelOutput, x.length, "modelOutput");
    const sigmaFrom = this.sigmas[index]!;
    const sigmaTo = this.sigmas[index + 1]!;
    const sigmaUp = Math.sqrt((sigmaTo ** 2 * (sigmaFrom ** 2 - sigmaTo ** 2)) / sigmaFrom ** 2);
    const sigmaDown = Math.sqrt(sigmaTo ** 2 - sigmaUp ** 2);
    const dt = sigmaDown - sigmaFrom;
    // The last step adds no noise (sigma_up = 0), so it may come without one.
    const noise = sigmaUp > 0 || options?.noise ? this.requireNoise(options, x.length) : null;
    const vIn = Math.sqrt(sigmaFrom ** 2 + 1);
    const epsilonPrediction = this.config.prediction_type === "epsilon";
    const predOriginalSample = this.resultArray(options?.recycle?.predOriginalSample, x.length, x, eps, noise);
    const prevSample = this.resultArray(options?.recycle?.prevSample, x.length, x, eps, noise, predOriginalSample);
    for (let i = 0; i < x.length; i++) {
      const denoised = epsilonPrediction
        ? x[i]! - sigmaFrom * eps[i]!
        : eps[i]! * (-sigmaFrom / vIn) + x[i]! / (sigmaFrom ** 2 + 1);
      predOriginalSample[i] = denoised;
      const derivative = (x[i]! - denoised) / sigmaFrom;
      const euler = x[i]! + derivative * dt;
      prevSample[i] = noise ? euler + noise[i]! * sigmaUp : euler;
    }
    this.stepIndex = index + 1;
    return { prevSample, predOriginalSample };
  }
}
