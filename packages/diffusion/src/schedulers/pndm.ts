// PNDMScheduler (diffusers): pseudo numerical methods for diffusion models.
// Runge-Kutta warm-up (PRK, 4 model calls per step) then linear multistep
// (PLMS); Stable Diffusion ships skip_prk_steps, which starts PLMS at once
// with one repeated timestep.
import { DiffusersScheduler, NOISE_SCHEDULE_DEFAULTS } from "./base.ts";
import { integerTimesteps } from "./ddim.ts";
import { checkPredictionType, checkSpacing, resolveConfig, toFloat64 } from "./noise-schedule.ts";
import type { SchedulerConfig, StepResult, Tensor } from "./types.ts";

const PNDM_DEFAULTS = {
  ...NOISE_SCHEDULE_DEFAULTS,
  skip_prk_steps: false,
  set_alpha_to_one: false,
  prediction_type: "epsilon",
  timestep_spacing: "leading",
  steps_offset: 0,
};

export type PndmConfig = typeof PNDM_DEFAULTS;

/** PNDM's order of the pseudo Runge-Kutta warm-up (F-PNDM). */
const PNDM_ORDER = 4;

export class PndmScheduler extends DiffusersScheduler {
  readonly stochastic = false;
  readonly config: PndmConfig;
  private readonly finalAlphaCumprod: number;
  private prkTimesteps: number[] = [];
  /** Past model outputs for the multistep formula. */
  private ets: Float64Array[] = [];
  private counter = 0;
  private curModelOutput: Float64Array | null = null;
  private curSample: Float64Array | null = null;

  constructor(config: SchedulerConfig = {}) {
    const resolved = resolveConfig(PNDM_DEFAULTS, config);
    super("PNDMScheduler", resolved);
    this.config = resolved;
    checkPredictionType(resolved.prediction_type, ["epsilon", "v_prediction"], this.name);
    checkSpacing(resolved.timestep_spacing);
    this.finalAlphaCumprod = resolved.set_alpha_to_one ? 1 : this.alphasCumprod[0]!;
  }

  /** Sets N steps; the schedule has N + 1 timesteps with skip_prk_steps, more with PRK warm-up. */
  setTimesteps(numInferenceSteps: number): void {
    this.resetRun(numInferenceSteps);
    const c = this.config;
    // Ascending, as diffusers' _timesteps.
    const base = integerTimesteps(c.timestep_spacing, c.num_train_timesteps, numInferenceSteps, c.steps_offset).reverse();
    let plms: number[];
    if (c.skip_prk_steps) {
      // crowsonkb's PLMS: the second-to-last entry repeats so the first step can average two model outputs.
      this.prkTimesteps = [];
      plms = [...base.slice(0, -1), ...base.slice(-2, -1), ...base.slice(-1)].reverse();
    } else {
      const half = Math.floor(Math.floor(c.num_train_timesteps / numInferenceSteps) / 2);
      const prk = base.slice(-PNDM_ORDER).flatMap((t) => [t, t + half]);
      // prk[:-1].repeat(2)[1:-1], reversed.
      this.prkTimesteps = prk
        .slice(0, -1)
        .flatMap((t) => [t, t])
        .slice(1, -1)
        .reverse();
      plms = base.slice(0, -3).reverse();
    }
    this.timesteps = [...this.prkTimesteps, ...plms];
    this.ets = [];
    this.counter = 0;
    this.curModelOutput = null;
    this.curSample = null;
  }

  step(modelOutput: Tensor, t: number, sample: Tensor): StepResult {
    this.requireTimesteps();
    const x = toFloat64(sample, sample.length, "sample");
    // ets keeps past model outputs: a copy, since the caller may refill its array.
    const converted = toFloat64(modelOutput, x.length, "modelOutput");
    const out = converted === modelOutput ? converted.slice() : converted;
    const prevSample =
      this.counter < this.prkTimesteps.length && !this.config.skip_prk_steps ? this.stepPrk(out, t, x) : this.stepPlms(out, t, x);
    return { prevSample };
  }

  /** One of the four Runge-Kutta stages; every stage restarts from the stage-0 sample. */
  private stepPrk(out: Float64Array, t: number, x: Float64Array): Float64Array {
    const numInferenceSteps = this.numInferenceSteps!;
    const diffToPrev = this.counter % 2 ? 0 : Math.floor(Math.floor(this.config.num_train_timesteps / numInferenceSteps) / 2);
    const prevT = t - diffToPrev;
    const timestep = this.prkTimesteps[Math.floor(this.counter / 4) * 4]!;
    const stage = this.counter % 4;
    let modelOutput = out;
    const accumulate = (weight: number) => {
      const current = this.curModelOutput ?? new Float64Array(out.length);
      this.curModelOutput = current.map((v, i) => v + weight * out[i]!);
    };
    if (stage === 0) {
      accumulate(1 / 6);
      this.ets.push(out);
      this.curSample = x;
    } else if (stage === 1 || stage === 2) {
      accumulate(1 / 3);
    } else {
      const current = this.curModelOutput ?? new Float64Array(out.length);
      modelOutput = current.map((v, i) => v + (1 / 6) * out[i]!);
      this.curModelOutput = null;
    }
    const prev = this.prevSample(this.curSample ?? x, timestep, prevT, modelOutput);
    this.counter += 1;
    return prev;
  }

  /** Linear multistep (Adams-Bashforth up to 4th order) over past model outputs. */
  private stepPlms(out: Float64Array, t: number, x: Float64Array): Float64Array {
    const c = this.config;
    if (!c.skip_prk_steps && this.ets.length < 3) {
      throw new Error(`${this.name}: PLMS needs the Runge-Kutta warm-up first; step through timesteps from the start`);
    }
    const stride = Math.floor(c.num_train_timesteps / this.numInferenceSteps!);
    let timestep = t;
    let prevT = t - stride;
    if (this.counter !== 1) {
      this.ets = this.ets.slice(-3);
      this.ets.push(out);
    } else {
      prevT = t;
      timestep = t + stride;
    }
    const ets = this.ets;
    const e = (fromEnd: number) => ets[ets.length - fromEnd]!;
    let sample = x;
    let modelOutput: Float64Array;
    if (ets.length === 1 && this.counter === 0) {
      modelOutput = out;
      this.curSample = x;
    } else if (ets.length === 1 && this.counter === 1) {
      modelOutput = out.map((v, i) => (v + e(1)[i]!) / 2);
      sample = this.curSample!;
      this.curSample = null;
    } else if (ets.length === 2) {
      modelOutput = e(1).map((v, i) => (3 * v - e(2)[i]!) / 2);
    } else if (ets.length === 3) {
      modelOutput = e(1).map((v, i) => (23 * v - 16 * e(2)[i]! + 5 * e(3)[i]!) / 12);
    } else {
      modelOutput = e(1).map((v, i) => (1 / 24) * (55 * v - 59 * e(2)[i]! + 37 * e(3)[i]! - 9 * e(4)[i]!));
    }
    const prev = this.prevSample(sample, timestep, prevT, modelOutput);
    this.counter += 1;
    return prev;
  }

  /** Formula (9) of the PNDM paper: x_{t-δ} from x_t and the noise estimate. */
  private prevSample(sample: Float64Array, t: number, prevT: number, modelOutput: Float64Array): Float64Array {
    const alphaProdT = this.alphasCumprod[t]!;
    const alphaProdPrev = prevT >= 0 ? this.alphasCumprod[prevT]! : this.finalAlphaCumprod;
    const betaProdT = 1 - alphaProdT;
    const betaProdPrev = 1 - alphaProdPrev;
    const epsilon =
      this.config.prediction_type === "v_prediction"
        ? modelOutput.map((v, i) => Math.sqrt(alphaProdT) * v + Math.sqrt(betaProdT) * sample[i]!)
        : modelOutput;
    const sampleCoeff = Math.sqrt(alphaProdPrev / alphaProdT);
    const denominator = alphaProdT * Math.sqrt(betaProdPrev) + Math.sqrt(alphaProdT * betaProdT * alphaProdPrev);
    return sample.map((v, i) => sampleCoeff * v - ((alphaProdPrev - alphaProdT) * epsilon[i]!) / denominator);
  }
}
