// Pieces every diffusers scheduler shares: the training noise schedule
// (betas -> alphas_cumprod), the inference timestep spacings, Karras sigmas,
// and the numpy/torch primitives they are written with, reproduced exactly
// (numpy rounds half to even; torch.linspace fills from both ends).
import type { SchedulerConfig, Tensor } from "./types.ts";

/** numpy.round: half to even. */
export function roundHalfEven(x: number): number {
  const rounded = Math.round(x);
  return Math.abs(x % 1) === 0.5 && rounded % 2 !== 0 ? rounded - 1 : rounded;
}

/** numpy.linspace (float64). */
export function npLinspace(start: number, stop: number, num: number, endpoint = true): number[] {
  const div = endpoint ? num - 1 : num;
  const step = div > 0 ? (stop - start) / div : 0;
  const out = Array.from({ length: num }, (_, i) => i * step + start);
  if (endpoint && num > 1) out[num - 1] = stop;
  return out;
}

/** numpy.arange with a float step: length ceil((stop-start)/step), values start + i*delta. */
export function npArange(start: number, stop: number, step: number): number[] {
  const length = Math.max(0, Math.ceil((stop - start) / step));
  const delta = start + step - start;
  return Array.from({ length }, (_, i) => start + i * delta);
}

/** torch.linspace (float64): the first half counts up from start, the second down from end. */
export function torchLinspace(start: number, end: number, steps: number): number[] {
  if (steps === 1) return [start];
  const step = (end - start) / (steps - 1);
  const half = Math.floor(steps / 2);
  return Array.from({ length: steps }, (_, i) => (i < half ? start + step * i : end - step * (steps - i - 1)));
}

/** numpy.interp over xp = 0, 1, ..., fp.length - 1. */
export function interpOverIndex(x: number, fp: readonly number[]): number {
  const last = fp.length - 1;
  if (x <= 0) return fp[0]!;
  if (x >= last) return fp[last]!;
  const j = Math.floor(x);
  const slope = fp[j + 1]! - fp[j]!;
  return slope * (x - j) + fp[j]!;
}

export type BetaSchedule = "linear" | "scaled_linear" | "squaredcos_cap_v2";

export interface NoiseScheduleConfig {
  num_train_timesteps: number;
  beta_start: number;
  beta_end: number;
  beta_schedule: string;
  trained_betas: number[] | null;
}

/** Glide's cosine schedule (diffusers betas_for_alpha_bar, cosine transform). */
function cosineBetas(numTrainTimesteps: number, maxBeta = 0.999): number[] {
  const alphaBar = (t: number) => Math.cos(((t + 0.008) / 1.008) * Math.PI / 2) ** 2;
  return Array.from({ length: numTrainTimesteps }, (_, i) => {
    const t1 = i / numTrainTimesteps;
    const t2 = (i + 1) / numTrainTimesteps;
    return Math.min(1 - alphaBar(t2) / alphaBar(t1), maxBeta);
  });
}

export function makeBetas(config: NoiseScheduleConfig): number[] {
  if (config.trained_betas) return [...config.trained_betas];
  const n = config.num_train_timesteps;
  switch (config.beta_schedule) {
    case "linear":
      return torchLinspace(config.beta_start, config.beta_end, n);
    case "scaled_linear":
      return torchLinspace(Math.sqrt(config.beta_start), Math.sqrt(config.beta_end), n).map((b) => b * b);
    case "squaredcos_cap_v2":
      return cosineBetas(n);
    default:
      throw new Error(`beta_schedule ${JSON.stringify(config.beta_schedule)} is not implemented`);
  }
}

/** Rescales betas to zero terminal SNR (arXiv:2305.08891, Algorithm 1). */
export function rescaleZeroTerminalSnr(betas: readonly number[]): number[] {
  let cumprod = 1;
  const alphasBarSqrt = betas.map((beta) => Math.sqrt((cumprod *= 1 - beta)));
  const first = alphasBarSqrt[0]!;
  const last = alphasBarSqrt[alphasBarSqrt.length - 1]!;
  const scale = first / (first - last);
  const shifted = alphasBarSqrt.map((a) => (a - last) * scale);
  const alphasBar = shifted.map((a) => a * a);
  return alphasBar.map((a, i) => 1 - (i === 0 ? a : a / alphasBar[i - 1]!));
}

export function cumulativeAlphas(betas: readonly number[]): number[] {
  let product = 1;
  return betas.map((beta) => (product *= 1 - beta));
}

/** sigma_t = sqrt((1 - alphā_t) / alphā_t), the k-diffusion noise level of training step t. */
export function trainingSigmas(alphasCumprod: readonly number[]): number[] {
  return alphasCumprod.map((a) => Math.sqrt((1 - a) / a));
}

export type TimestepSpacing = "linspace" | "leading" | "trailing";

export function checkSpacing(spacing: string): TimestepSpacing {
  if (spacing === "linspace" || spacing === "leading" || spacing === "trailing") return spacing;
  throw new Error(`timestep_spacing ${JSON.stringify(spacing)} must be one of linspace, leading, trailing`);
}

/**
 * Inference timesteps (descending) of the k-diffusion / DDIM family, before any
 * rounding the scheduler applies: linspace keeps fractions (Euler uses them).
 */
export function spacedTimesteps(
  spacing: TimestepSpacing,
  numTrainTimesteps: number,
  numInferenceSteps: number,
  stepsOffset: number,
): number[] {
  switch (spacing) {
    case "linspace":
      return npLinspace(0, numTrainTimesteps - 1, numInferenceSteps).reverse();
    case "leading": {
      const ratio = Math.floor(numTrainTimesteps / numInferenceSteps);
      return Array.from({ length: numInferenceSteps }, (_, i) => i * ratio)
        .reverse()
        .map((t) => t + stepsOffset);
    }
    case "trailing": {
      const ratio = numTrainTimesteps / numInferenceSteps;
      return npArange(numTrainTimesteps, 0, -ratio).map((t) => roundHalfEven(t) - 1);
    }
  }
}

/** Karras et al. (2022) noise levels, rho = 7, from sigmaMax down to sigmaMin. */
export function karrasSigmas(sigmaMin: number, sigmaMax: number, numInferenceSteps: number): number[] {
  const rho = 7;
  const minInvRho = sigmaMin ** (1 / rho);
  const maxInvRho = sigmaMax ** (1 / rho);
  return npLinspace(0, 1, numInferenceSteps).map((ramp) => (maxInvRho + ramp * (minInvRho - maxInvRho)) ** rho);
}

export function exponentialSigmas(sigmaMin: number, sigmaMax: number, numInferenceSteps: number): number[] {
  return npLinspace(Math.log(sigmaMax), Math.log(sigmaMin), numInferenceSteps).map(Math.exp);
}

/** diffusers `_sigma_to_t`: fractional training timestep of a noise level, by log-sigma interpolation. */
export function sigmaToTimestep(sigma: number, logSigmas: readonly number[]): number {
  const logSigma = Math.log(Math.max(sigma, 1e-10));
  let low = 0;
  for (let i = 0; i < logSigmas.length; i++) if (logSigma - logSigmas[i]! >= 0) low = i;
  low = Math.min(low, logSigmas.length - 2);
  const lowLog = logSigmas[low]!;
  const highLog = logSigmas[low + 1]!;
  const w = Math.min(Math.max((lowLog - logSigma) / (lowLog - highLog), 0), 1);
  return (1 - w) * low + w * (low + 1);
}

/** Copies a tensor into float64, checking its length against the sample's. */
export function toFloat64(tensor: Tensor, length: number, what: string): Float64Array {
  if (tensor.length !== length) throw new Error(`${what} has ${tensor.length} values, the sample has ${length}`);
  return tensor instanceof Float64Array ? tensor : Float64Array.from(tensor);
}

/**
 * a·x + b·y elementwise, in float64 (y optional). Plain loops: typed-array
 * `from` with a mapping callback costs ~40× more per step on a 64×64 latent.
 */
export function axpby(a: number, x: Tensor, b = 0, y?: Tensor): Float64Array {
  const out = new Float64Array(x.length);
  if (y) for (let i = 0; i < out.length; i++) out[i] = a * x[i]! + b * y[i]!;
  else for (let i = 0; i < out.length; i++) out[i] = a * x[i]!;
  return out;
}

/** x / d elementwise, in float64 (scale_model_input), into `out` when given (a float32 `out` rounds once, on store). */
export function divideBy<Out extends Tensor = Float64Array>(x: Tensor, d: number, out?: Out): Out {
  const target = out ?? new Float64Array(x.length);
  checkLength(target, x.length);
  for (let i = 0; i < target.length; i++) target[i] = x[i]! / d;
  return target as Out;
}

/** An output tensor must match the sample's length. */
export function checkLength(out: Tensor, length: number): void {
  if (out.length !== length) throw new Error(`out has ${out.length} values, the sample has ${length}`);
}

type Defaults = Record<string, unknown>;

/**
 * A scheduler's resolved config: its diffusers defaults overridden by the keys
 * of a scheduler_config.json it knows (others are ignored, like from_config).
 */
export function resolveConfig<T extends Defaults>(defaults: T, config: SchedulerConfig, overrides: Partial<T> = {}): T {
  const resolved: Defaults = { ...defaults };
  for (const key of Object.keys(defaults)) {
    const value = config[key];
    if (value === undefined) continue;
    // JSON has no -inf: diffusers configs spell lambda_min_clipped as "-Infinity" strings or -1e999.
    resolved[key] = typeof defaults[key] === "number" && typeof value === "string" ? Number(value) : value;
  }
  return { ...(resolved as T), ...overrides };
}

export function checkPredictionType(predictionType: string, supported: readonly string[], scheduler: string): void {
  if (!supported.includes(predictionType)) {
    throw new Error(`${scheduler}: prediction_type ${JSON.stringify(predictionType)} must be one of ${supported.join(", ")}`);
  }
}

/** Index of timestep t in a schedule; the first step of a repeated timestep uses its second occurrence (diffusers index_for_timestep). */
export function indexForTimestep(timesteps: readonly number[], t: number): number | undefined {
  const matches: number[] = [];
  timesteps.forEach((value, i) => {
    if (value === t) matches.push(i);
  });
  return matches.length > 1 ? matches[1] : matches[0];
}
