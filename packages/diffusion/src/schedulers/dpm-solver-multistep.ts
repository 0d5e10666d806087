// DPMSolverMultistepScheduler (diffusers): DPM-Solver / DPM-Solver++ multistep
// (orders 1-3, midpoint or heun), data-prediction form for "++". "DPM++ 2M" is
// solver_order 2 with algorithm_type dpmsolver++; "Karras" adds Karras sigmas.
import { NOISE_SCHEDULE_DEFAULTS } from "./base.ts";
import { SigmaScheduler, finalSigma } from "./euler.ts";
import {
  checkPredictionType,
  checkSpacing,
  interpOverIndex,
  karrasSigmas,
  npArange,
  npLinspace,
  resolveConfig,
  roundHalfEven,
  sigmaToTimestep,
  toFloat64,
  trainingSigmas,
  axpby,
} from "./noise-schedule.ts";
import type { SchedulerConfig, StepResult, Tensor } from "./types.ts";

const DPM_DEFAULTS = {
  ...NOISE_SCHEDULE_DEFAULTS,
  solver_order: 2,
  prediction_type: "epsilon",
  thresholding: false,
  algorithm_type: "dpmsolver++",
  solver_type: "midpoint",
  lower_order_final: true,
  euler_at_final: false,
  use_karras_sigmas: false,
  use_exponential_sigmas: false,
  use_beta_sigmas: false,
  use_lu_lambdas: false,
  use_flow_sigmas: false,
  final_sigmas_type: "zero",
  lambda_min_clipped: -Infinity,
  variance_type: null as string | null,
  timestep_spacing: "linspace",
  steps_offset: 0,
  rescale_betas_zero_snr: false,
};

export type DpmSolverMultistepConfig = typeof DPM_DEFAULTS;

/** alpha_t and sigma_t of the variance-preserving process at k-diffusion noise level sigma. */
function alphaSigma(sigma: number): { alpha: number; sigma: number } {
  const alpha = 1 / Math.sqrt(sigma ** 2 + 1);
  return { alpha, sigma: sigma * alpha };
}

/** log-SNR / 2 (lambda_t = log alpha_t - log sigma_t). */
function lambdaOf(p: { alpha: number; sigma: number }): number {
  return Math.log(p.alpha) - Math.log(p.sigma);
}

export class DpmSolverMultistepScheduler extends SigmaScheduler {
  readonly stochastic = false;
  readonly config: DpmSolverMultistepConfig;
  /** Data predictions (x0) of the last solver_order steps, oldest first. */
  private modelOutputs: (Float64Array | null)[];
  private lowerOrderNums = 0;

  constructor(config: SchedulerConfig = {}, overrides: Partial<DpmSolverMultistepConfig> = {}) {
    const resolved = resolveConfig(DPM_DEFAULTS, config, overrides);
    super("DPMSolverMultistepScheduler", resolved, resolved.rescale_betas_zero_snr);
    if (resolved.algorithm_type === "deis") resolved.algorithm_type = "dpmsolver++";
    if (["logrho", "bh1", "bh2"].includes(resolved.solver_type)) resolved.solver_type = "midpoint";
    this.config = resolved;
    checkPredictionType(resolved.prediction_type, ["epsilon", "sample", "v_prediction"], this.name);
    checkSpacing(resolved.timestep_spacing);
    if (!["dpmsolver", "dpmsolver++"].includes(resolved.algorithm_type)) {
      throw new Error(`${this.name}: algorithm_type ${JSON.stringify(resolved.algorithm_type)} is not supported (dpmsolver, dpmsolver++)`);
    }
    if (!["midpoint", "heun"].includes(resolved.solver_type)) {
      throw new Error(`${this.name}: solver_type ${JSON.stringify(resolved.solver_type)} must be midpoint or heun`);
    }
    if (![1, 2, 3].includes(resolved.solver_order)) throw new Error(`${this.name}: solver_order must be 1, 2 or 3`);
    if (resolved.algorithm_type !== "dpmsolver++" && resolved.final_sigmas_type === "zero") {
      throw new Error(`${this.name}: final_sigmas_type zero needs algorithm_type dpmsolver++; use sigma_min`);
    }
    for (const unsupported of ["thresholding", "use_exponential_sigmas", "use_beta_sigmas", "use_lu_lambdas", "use_flow_sigmas"] as const) {
      if (resolved[unsupported]) throw new Error(`${this.name}: ${unsupported} is not supported`);
    }
    this.sigmas = trainingSigmas(this.alphasCumprod);
    this.modelOutputs = new Array(resolved.solver_order).fill(null);
    this.timesteps = Array.from({ length: resolved.num_train_timesteps }, (_, i) => resolved.num_train_timesteps - 1 - i);
  }

  setTimesteps(numInferenceSteps: number): void {
    this.resetRun(numInferenceSteps);
    const c = this.config;
    const training = trainingSigmas(this.alphasCumprod);
    const logSigmas = training.map(Math.log);
    // Clip the smallest log-SNR for stability (matters for the cosine schedule).
    const flippedLambdas = this.alphasCumprod.map((a) => Math.log(Math.sqrt(a)) - Math.log(Math.sqrt(1 - a))).reverse();
    const clippedIdx = flippedLambdas.filter((lambda) => lambda < c.lambda_min_clipped).length;
    const lastTimestep = c.num_train_timesteps - clippedIdx;

    let timesteps: number[];
    switch (checkSpacing(c.timestep_spacing)) {
      case "linspace":
        timesteps = npLinspace(0, lastTimestep - 1, numInferenceSteps + 1).map(roundHalfEven).reverse().slice(0, -1);
        break;
      case "leading": {
        const ratio = Math.floor(lastTimestep / (numInferenceSteps + 1));
        timesteps = Array.from({ length: numInferenceSteps + 1 }, (_, i) => i * ratio)
          .reverse()
          .slice(0, -1)
          .map((t) => t + c.steps_offset);
        break;
      }
      case "trailing": {
        const ratio = c.num_train_timesteps / numInferenceSteps;
        timesteps = npArange(lastTimestep, 0, -ratio).map((t) => roundHalfEven(t) - 1);
        break;
      }
    }

    let sigmas: number[];
    if (c.use_karras_sigmas) {
      // Spread over the whole training range: sigma_min = sigma(0), sigma_max = sigma(T-1).
      sigmas = karrasSigmas(training[0]!, training[training.length - 1]!, numInferenceSteps);
      timesteps = sigmas.map((sigma) => roundHalfEven(sigmaToTimestep(sigma, logSigmas)));
    } else {
      sigmas = timesteps.map((t) => interpOverIndex(t, training));
    }
    sigmas.push(finalSigma(c.final_sigmas_type, this.alphasCumprod, this.name));

    this.sigmas = sigmas;
    this.timesteps = timesteps;
    this.numInferenceSteps = timesteps.length;
    this.modelOutputs = new Array(c.solver_order).fill(null);
    this.lowerOrderNums = 0;
  }

  /** The solver works on data predictions (x0) for "++", noise predictions otherwise. */
  private convertModelOutput(out: Float64Array, x: Float64Array, sigmaValue: number): Float64Array {
    const c = this.config;
    const { alpha, sigma } = alphaSigma(sigmaValue);
    const converted = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      let x0: number;
      let epsilon: number;
      if (c.prediction_type === "epsilon") {
        epsilon = out[i]!;
        x0 = (x[i]! - sigma * epsilon) / alpha;
      } else if (c.prediction_type === "sample") {
        x0 = out[i]!;
        epsilon = (x[i]! - alpha * x0) / sigma;
      } else {
        x0 = alpha * x[i]! - sigma * out[i]!;
        epsilon = alpha * out[i]! + sigma * x[i]!;
      }
      converted[i] = c.algorithm_type === "dpmsolver++" ? x0 : epsilon;
    }
    return converted;
  }

  step(modelOutput: Tensor, t: number, sample: Tensor): StepResult {
    const index = this.currentStepIndexOrLast(t);
    const c = this.config;
    const x = toFloat64(sample, sample.length, "sample");
    const out = toFloat64(modelOutput, x.length, "modelOutput");
    const count = this.timesteps.length;
    // Lower orders at the end improve stability for few steps.
    const lowerOrderFinal =
      index === count - 1 && (c.euler_at_final || (c.lower_order_final && count < 15) || c.final_sigmas_type === "zero");
    const lowerOrderSecond = index === count - 2 && c.lower_order_final && count < 15;

    const converted = this.convertModelOutput(out, x, this.sigmas[index]!);
    this.modelOutputs.shift();
    this.modelOutputs.push(converted);

    let prevSample: Float64Array;
    if (c.solver_order === 1 || this.lowerOrderNums < 1 || lowerOrderFinal) {
      prevSample = this.firstOrderUpdate(index, x);
    } else if (c.solver_order === 2 || this.lowerOrderNums < 2 || lowerOrderSecond) {
      prevSample = this.secondOrderUpdate(index, x);
    } else {
      prevSample = this.thirdOrderUpdate(index, x);
    }
    if (this.lowerOrderNums < c.solver_order) this.lowerOrderNums += 1;
    this.stepIndex = index + 1;
    return c.algorithm_type === "dpmsolver++" ? { prevSample, predOriginalSample: converted } : { prevSample };
  }

  /** DPM's index lookup falls back to the last step for an unknown timestep. */
  private currentStepIndexOrLast(t: number): number {
    this.requireTimesteps();
    if (this.stepIndex === null && this.beginIndex === null && !this.timesteps.includes(t)) {
      this.stepIndex = this.timesteps.length - 1;
    }
    return this.currentStepIndex(t);
  }

  private output(fromEnd: number): Float64Array {
    return this.modelOutputs[this.modelOutputs.length - fromEnd]!;
  }

  private firstOrderUpdate(index: number, x: Float64Array): Float64Array {
    const t = alphaSigma(this.sigmas[index + 1]!);
    const s = alphaSigma(this.sigmas[index]!);
    const h = lambdaOf(t) - lambdaOf(s);
    const m = this.output(1);
    const plusPlus = this.config.algorithm_type === "dpmsolver++";
    const sampleCoeff = plusPlus ? t.sigma / s.sigma : t.alpha / s.alpha;
    const outputCoeff = plusPlus ? t.alpha * (Math.exp(-h) - 1) : t.sigma * (Math.exp(h) - 1);
    return axpby(sampleCoeff, x, -outputCoeff, m);
  }

  private secondOrderUpdate(index: number, x: Float64Array): Float64Array {
    const t = alphaSigma(this.sigmas[index + 1]!);
    const s0 = alphaSigma(this.sigmas[index]!);
    const s1 = alphaSigma(this.sigmas[index - 1]!);
    const lambdaT = lambdaOf(t);
    const lambdaS0 = lambdaOf(s0);
    const h = lambdaT - lambdaS0;
    const h0 = lambdaS0 - lambdaOf(s1);
    const r0 = h0 / h;
    const m0 = this.output(1);
    const m1 = this.output(2);
    const plusPlus = this.config.algorithm_type === "dpmsolver++";
    const heun = this.config.solver_type === "heun";
    const result = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const d0 = m0[i]!;
      const d1 = (1 / r0) * (m0[i]! - m1[i]!);
      if (plusPlus) {
        const base = (t.sigma / s0.sigma) * x[i]! - t.alpha * (Math.exp(-h) - 1) * d0;
        result[i] = heun
          ? base + t.alpha * ((Math.exp(-h) - 1) / h + 1) * d1
          : base - 0.5 * (t.alpha * (Math.exp(-h) - 1)) * d1;
      } else {
        const base = (t.alpha / s0.alpha) * x[i]! - t.sigma * (Math.exp(h) - 1) * d0;
        result[i] = heun
          ? base - t.sigma * ((Math.exp(h) - 1) / h - 1) * d1
          : base - 0.5 * (t.sigma * (Math.exp(h) - 1)) * d1;
      }
    }
    return result;
  }

  private thirdOrderUpdate(index: number, x: Float64Array): Float64Array {
    const t = alphaSigma(this.sigmas[index + 1]!);
    const s0 = alphaSigma(this.sigmas[index]!);
    const s1 = alphaSigma(this.sigmas[index - 1]!);
    const s2 = alphaSigma(this.sigmas[index - 2]!);
    const lambdaT = lambdaOf(t);
    const lambdaS0 = lambdaOf(s0);
    const lambdaS1 = lambdaOf(s1);
    const h = lambdaT - lambdaS0;
    const h0 = lambdaS0 - lambdaS1;
    const h1 = lambdaS1 - lambdaOf(s2);
    const r0 = h0 / h;
    const r1 = h1 / h;
    const m0 = this.output(1);
    const m1 = this.output(2);
    const m2 = this.output(3);
    const plusPlus = this.config.algorithm_type === "dpmsolver++";
    const result = new Float64Array(x.length);
    for (let i = 0; i < x.length; i++) {
      const d10 = (1 / r0) * (m0[i]! - m1[i]!);
      const d11 = (1 / r1) * (m1[i]! - m2[i]!);
      const d1 = d10 + (r0 / (r0 + r1)) * (d10 - d11);
      const d2 = (1 / (r0 + r1)) * (d10 - d11);
      result[i] = plusPlus
        ? (t.sigma / s0.sigma) * x[i]! -
          t.alpha * (Math.exp(-h) - 1) * m0[i]! +
          t.alpha * ((Math.exp(-h) - 1) / h + 1) * d1 -
          t.alpha * ((Math.exp(-h) - 1 + h) / h ** 2 - 0.5) * d2
        : (t.alpha / s0.alpha) * x[i]! -
          t.sigma * (Math.exp(h) - 1) * m0[i]! -
          t.sigma * ((Math.exp(h) - 1) / h - 1) * d1 -
          t.sigma * ((Math.exp(h) - 1 - h) / h ** 2 - 0.5) * d2;
    }
    return result;
  }

  addNoise(original: Tensor, noise: Tensor, t: number): Float64Array {
    this.requireTimesteps();
    const index = this.beginIndex === null ? (this.timesteps.includes(t) ? this.indexOf(t) : this.timesteps.length - 1) : this.noiseIndex(t);
    const { alpha, sigma } = alphaSigma(this.sigmas[index]!);
    const noiseValues = toFloat64(noise, original.length, "noise");
    return axpby(alpha, original, sigma, noiseValues);
  }
}
