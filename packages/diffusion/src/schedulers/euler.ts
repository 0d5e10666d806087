// EulerDiscreteScheduler (diffusers): Karras et al. (2022) Algorithm 2 without
// churn, on the k-diffusion sigma parameterisation.
import { DiffusersScheduler, NOISE_SCHEDULE_DEFAULTS } from "./base.ts";
import {
  checkPredictionType,
  checkSpacing,
  exponentialSigmas,
  interpOverIndex,
  karrasSigmas,
  resolveConfig,
  sigmaToTimestep,
  spacedTimesteps,
  toFloat64,
  torchLinspace,
  trainingSigmas,
  divideBy,
  axpby,
} from "./noise-schedule.ts";
import type { SchedulerConfig, StepOptions, StepResult, Tensor } from "./types.ts";

const EULER_DEFAULTS = {
  ...NOISE_SCHEDULE_DEFAULTS,
  prediction_type: "epsilon",
  interpolation_type: "linear",
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  sigma_min: null as number | null,
  sigma_max: null as number | null,
  timestep_spacing: "linspace",
  timestep_type: "discrete",
  steps_offset: 0,
  rescale_betas_zero_snr: false,
  final_sigmas_type: "zero",
};

export type EulerConfig = typeof EULER_DEFAULTS;

/** Base of the sigma-space schedulers: sigma per step, k-diffusion input scaling, sigma-based add_noise. */
export abstract class SigmaScheduler extends DiffusersScheduler {
  sigmas: number[] = [];

  protected constructor(name: string, config: typeof NOISE_SCHEDULE_DEFAULTS, rescaleZeroSnr: boolean) {
    super(name, config, rescaleZeroSnr);
    // diffusers keeps the last ᾱ just above zero so the terminal sigma stays finite.
    if (rescaleZeroSnr) this.alphasCumprod[this.alphasCumprod.length - 1] = 2 ** -24;
  }

  /** Index of the sigma that add_noise uses at timestep t (diffusers' begin-index rules). */
  protected noiseIndex(t: number): number {
    if (this.beginIndex === null) return this.indexOf(t);
    return this.stepIndex ?? this.beginIndex;
  }

  addNoise(original: Tensor, noise: Tensor, t: number): Float64Array {
    this.requireTimesteps();
    const sigma = this.sigmas[this.noiseIndex(t)]!;
    const noiseValues = toFloat64(noise, original.length, "noise");
    return axpby(1, original, sigma, noiseValues);
  }
}

/** init_noise_sigma of the Euler family: sigma_max, or sqrt(sigma_max² + 1) for "leading" spacing. */
function eulerInitNoiseSigma(sigmas: readonly number[], spacing: string): number {
  const maxSigma = Math.max(...sigmas);
  return spacing === "linspace" || spacing === "trailing" ? maxSigma : Math.sqrt(maxSigma ** 2 + 1);
}

export class EulerDiscreteScheduler extends SigmaScheduler {
  readonly stochastic = false;
  readonly config: EulerConfig;

  constructor(config: SchedulerConfig = {}) {
    const resolved = resolveConfig(EULER_DEFAULTS, config);
    super("EulerDiscreteScheduler", resolved, resolved.rescale_betas_zero_snr);
    this.config = resolved;
    checkPredictionType(resolved.prediction_type, ["epsilon", "v_prediction", "sample", "original_sample"], this.name);
    checkSpacing(resolved.timestep_spacing);
    if (resolved.use_beta_sigmas) throw new Error(`${this.name}: use_beta_sigmas is not supported`);
    const training = trainingSigmas(this.alphasCumprod).reverse();
    this.sigmas = [...training, 0];
    this.timesteps = Array.from({ length: resolved.num_train_timesteps }, (_, i) => resolved.num_train_timesteps - 1 - i);
    this.initNoiseSigma = eulerInitNoiseSigma(this.sigmas, resolved.timestep_spacing);
  }

  setTimesteps(numInferenceSteps: number): void {
    this.resetRun(numInferenceSteps);
    const c = this.config;
    let timesteps = spacedTimesteps(checkSpacing(c.timestep_spacing), c.num_train_timesteps, numInferenceSteps, c.steps_offset);
    const training = trainingSigmas(this.alphasCumprod);
    const logSigmas = training.map(Math.log);

    let sigmas: number[];
    if (c.interpolation_type === "linear") {
      sigmas = timesteps.map((t) => interpOverIndex(t, training));
    } else if (c.interpolation_type === "log_linear") {
      sigmas = torchLinspace(Math.log(training[training.length - 1]!), Math.log(training[0]!), numInferenceSteps + 1).map(Math.exp);
    } else {
      throw new Error(`${this.name}: interpolation_type ${JSON.stringify(c.interpolation_type)} must be linear or log_linear`);
    }
    if (c.use_karras_sigmas || c.use_exponential_sigmas) {
      const sigmaMin = c.sigma_min ?? sigmas[sigmas.length - 1]!;
      const sigmaMax = c.sigma_max ?? sigmas[0]!;
      sigmas = c.use_karras_sigmas
        ? karrasSigmas(sigmaMin, sigmaMax, numInferenceSteps)
        : exponentialSigmas(sigmaMin, sigmaMax, numInferenceSteps);
      timesteps = sigmas.map((sigma) => sigmaToTimestep(sigma, logSigmas));
    }

    sigmas.push(finalSigma(c.final_sigmas_type, this.alphasCumprod, this.name));
    this.sigmas = sigmas;
    this.timesteps =
      c.timestep_type === "continuous" && c.prediction_type === "v_prediction"
        ? sigmas.slice(0, -1).map((sigma) => 0.25 * Math.log(sigma))
        : timesteps;
    this.initNoiseSigma = eulerInitNoiseSigma(this.sigmas, c.timestep_spacing);
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
    const sigma = this.sigmas[index]!;
    const dt = this.sigmas[index + 1]! - sigma;
    const predType = this.config.prediction_type;
    const vIn = Math.sqrt(sigma ** 2 + 1);
    const predOriginalSample = this.resultArray(options?.recycle?.predOriginalSample, x.length, x, eps);
    const prevSample = this.resultArray(options?.recycle?.prevSample, x.length, x, eps, predOriginalSample);
    for (let i = 0; i < x.length; i++) {
      const denoised =
        predType === "epsilon"
          ? x[i]! - sigma * eps[i]!
          : predType === "v_prediction"
            ? eps[i]! * (-sigma / vIn) + x[i]! / (sigma ** 2 + 1)
            : eps[i]!;
      predOriginalSample[i] = denoised;
      const derivative = (x[i]! - denoised) / sigma;
      prevSample[i] = x[i]! + derivative * dt;
    }
    this.stepIndex = index + 1;
    return { prevSample, predOriginalSample };
  }
}

/** The sigma after the last step: 0, or the smallest training sigma ("sigma_min"). */
export function finalSigma(type: string, alphasCumprod: readonly number[], scheduler: string): number {
  if (type === "zero") return 0;
  if (type === "sigma_min") return Math.sqrt((1 - alphasCumprod[0]!) / alphasCumprod[0]!);
  throw new Error(`${scheduler}: final_sigmas_type ${JSON.stringify(type)} must be zero or sigma_min`);
}
