// Scheduler behaviour beyond the reference runs: every timestep spacing, the
// PRK warm-up, v-prediction, Karras sigmas, img2img entry points, stochastic
// steps. The "oracle" tests feed each scheduler the exact noise of a known
// clean latent: a correct deterministic sampler then stays on the forward
// trajectory x_t = alpha_t·x0 + sigma_t·eps0 and lands on x0 (diffusers' math).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  DdimScheduler,
  DpmSolverMultistepScheduler,
  EulerAncestralDiscreteScheduler,
  EulerDiscreteScheduler,
  LcmScheduler,
  PndmScheduler,
  SCHEDULER_NAMES,
  createScheduler,
  startAtStrength,
  type Scheduler,
  type SchedulerConfig,
  type StepResult,
} from "../src/schedulers/index.ts";

const SD15: SchedulerConfig = {
  _class_name: "PNDMScheduler",
  num_train_timesteps: 1000,
  beta_start: 0.00085,
  beta_end: 0.012,
  beta_schedule: "scaled_linear",
  steps_offset: 1,
  set_alpha_to_one: false,
  clip_sample: false,
  skip_prk_steps: true,
  timestep_spacing: "leading",
};
const SD_TURBO: SchedulerConfig = { ...SD15, timestep_spacing: "trailing" };

/** ᾱ_t of the SD schedule, computed independently of the schedulers. */
const ALPHAS_CUMPROD = (() => {
  const n = 1000;
  const start = Math.sqrt(0.00085);
  const end = Math.sqrt(0.012);
  let product = 1;
  return Array.from({ length: n }, (_, i) => (product *= 1 - (start + ((end - start) * i) / (n - 1)) ** 2));
})();

const X0 = Float64Array.from({ length: 16 }, (_, i) => Math.sin(i + 1) * 0.8);
const EPS0 = Float64Array.from({ length: 16 }, (_, i) => Math.cos(3 * i + 0.5));

/** The model output that exactly describes sample = alpha·x0 + sigma·eps0. */
function oracle(sample: Float64Array, alpha: number, sigma: number, prediction: "epsilon" | "v_prediction"): Float64Array {
  return sample.map((x, i) => {
    const eps = (x - alpha * X0[i]!) / sigma;
    return prediction === "epsilon" ? eps : alpha * eps - sigma * X0[i]!;
  });
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tolerance, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
  }
}

/** Runs a sigma-space (Euler/DPM) scheduler from x0 + sigma_0·eps0 with the oracle model. */
function runOracle(scheduler: Scheduler, vpAlpha: (t: number, i: number) => number, prediction: "epsilon" | "v_prediction", start: Float64Array): Float64Array {
  let sample: Float64Array = start;
  scheduler.timesteps.forEach((t, i) => {
    const input = scheduler.scaleModelInput(sample, t);
    const alpha = vpAlpha(t, i);
    sample = scheduler.step(oracle(input, alpha, Math.sqrt(1 - alpha * alpha), prediction), t, sample).prevSample;
  });
  return sample;
}

const sigmaAlpha = (scheduler: Scheduler) => (_t: number, i: number) => 1 / Math.sqrt(scheduler.sigmas![i]! ** 2 + 1);
const trainedAlpha = (t: number) => Math.sqrt(ALPHAS_CUMPROD[t]!);
const kStart = (sigma: number) => X0.map((x, i) => x + sigma * EPS0[i]!);
const vpStart = (t: number) => X0.map((x, i) => Math.sqrt(ALPHAS_CUMPROD[t]!) * x + Math.sqrt(1 - ALPHAS_CUMPROD[t]!) * EPS0[i]!);

describe("timestep spacing follows diffusers", () => {
  it("euler trailing (SD-Turbo): ends at 999 and starts from sigma_max without the +1", () => {
    const euler = createScheduler("euler", SD_TURBO);
    euler.setTimesteps(4);
    assert.deepEqual(euler.timesteps, [999, 749, 499, 249]);
    assert.equal(euler.initNoiseSigma, euler.sigmas![0]);
    euler.setTimesteps(1);
    assert.deepEqual(euler.timesteps, [999]);
    assert.ok(Math.abs(euler.sigmas![0]! - Math.sqrt((1 - ALPHAS_CUMPROD[999]!) / ALPHAS_CUMPROD[999]!)) < 1e-12);
  });

  it("euler leading (SD 1.5): init_noise_sigma is sqrt(sigma_max² + 1)", () => {
    const euler = createScheduler("euler", SD15);
    euler.setTimesteps(4);
    assert.deepEqual(euler.timesteps, [751, 501, 251, 1]);
    assert.equal(euler.initNoiseSigma, Math.sqrt(euler.sigmas![0]! ** 2 + 1));
  });

  it("euler linspace keeps fractional timesteps and interpolates sigmas", () => {
    const euler = createScheduler("euler", { ...SD15, timestep_spacing: "linspace" });
    euler.setTimesteps(3);
    assert.deepEqual(euler.timesteps, [999, 499.5, 0]);
    const sigma = (t: number) => Math.sqrt((1 - ALPHAS_CUMPROD[t]!) / ALPHAS_CUMPROD[t]!);
    assert.ok(Math.abs(euler.sigmas![1]! - (sigma(499) + sigma(500)) / 2) < 1e-12);
    assert.deepEqual(euler.sigmas!.at(-1), 0);
  });

  it("ddim rounds half to even like numpy, trailing uses arange from the end", () => {
    const linspace = createScheduler("ddim", { ...SD15, timestep_spacing: "linspace" });
    linspace.setTimesteps(3);
    assert.deepEqual(linspace.timesteps, [999, 500, 0]);
    const trailing = createScheduler("ddim", SD_TURBO);
    trailing.setTimesteps(3);
    assert.deepEqual(trailing.timesteps, [999, 666, 332]);
  });

  it("dpm++ linspace drops the final 0 of N+1 points", () => {
    const dpm = createScheduler("dpmpp_2m", { ...SD15, timestep_spacing: "linspace" });
    dpm.setTimesteps(4);
    assert.deepEqual(dpm.timesteps, [999, 749, 500, 250]);
    assert.equal(dpm.sigmas!.length, 5);
  });

  it("pndm without skip_prk_steps runs the Runge-Kutta warm-up timesteps first", () => {
    const pndm = createScheduler("pndm", { ...SD15, skip_prk_steps: false });
    pndm.setTimesteps(10);
    assert.deepEqual(pndm.timesteps, [
      901, 851, 851, 801, 801, 751, 751, 701, 701, 651, 651, 601, 601, 501, 401, 301, 201, 101, 1,
    ]);
  });

  it("lcm picks evenly spaced steps of the 50-step distillation schedule and rejects more", () => {
    const lcm = createScheduler("lcm", SD15);
    lcm.setTimesteps(2);
    assert.deepEqual(lcm.timesteps, [999, 499]);
    assert.throws(() => lcm.setTimesteps(51), /original_inference_steps/);
  });

  it("rejects an unknown spacing", () => {
    assert.throws(() => createScheduler("euler", { ...SD15, timestep_spacing: "uniform" }), /timestep_spacing/);
  });
});

describe("deterministic samplers land on the clean latent given exact predictions", () => {
  const sigmaCases: [string, () => Scheduler, "epsilon" | "v_prediction"][] = [
    ["euler leading", () => new EulerDiscreteScheduler(SD15), "epsilon"],
    ["euler trailing v-prediction", () => new EulerDiscreteScheduler({ ...SD_TURBO, prediction_type: "v_prediction" }), "v_prediction"],
    ["euler karras", () => new EulerDiscreteScheduler({ ...SD15, use_karras_sigmas: true }), "epsilon"],
    ["dpm++ 2M linspace v-prediction", () => createScheduler("dpmpp_2m", { ...SD15, timestep_spacing: "linspace", prediction_type: "v_prediction" }), "v_prediction"],
    ["dpm++ 2M karras", () => createScheduler("dpmpp_2m_karras", SD15), "epsilon"],
    ["dpm++ 3M heun", () => new DpmSolverMultistepScheduler({ ...SD15, solver_order: 3, solver_type: "heun" }), "epsilon"],
    ["dpm-solver 3 (noise form)", () => new DpmSolverMultistepScheduler({ ...SD15, solver_order: 3, algorithm_type: "dpmsolver", final_sigmas_type: "sigma_min" }), "epsilon"],
  ];
  for (const [label, make, prediction] of sigmaCases) {
    it(label, () => {
      const scheduler = make();
      scheduler.setTimesteps(12);
      const finalSigma = scheduler.sigmas!.at(-1)!;
      const sigma0 = scheduler.sigmas![0]!;
      // DPM works in the VP scale (x = alpha·x0 + sigma·eps), Euler in k-diffusion's (x = x0 + sigma·eps).
      const vp = scheduler instanceof DpmSolverMultistepScheduler;
      const scale = (s: number) => (vp ? 1 / Math.sqrt(s ** 2 + 1) : 1);
      const start = kStart(sigma0).map((x) => x * scale(sigma0));
      const result = runOracle(scheduler, sigmaAlpha(scheduler), prediction, start);
      const expected = kStart(finalSigma).map((x) => x * scale(finalSigma));
      assertClose(result, expected, 1e-9, label);
    });
  }

  const vpCases: [string, () => Scheduler, "epsilon" | "v_prediction"][] = [
    ["ddim leading", () => new DdimScheduler(SD15), "epsilon"],
    ["ddim trailing v-prediction", () => new DdimScheduler({ ...SD_TURBO, prediction_type: "v_prediction" }), "v_prediction"],
    ["pndm plms", () => new PndmScheduler(SD15), "epsilon"],
    ["pndm with runge-kutta warm-up", () => new PndmScheduler({ ...SD15, skip_prk_steps: false }), "epsilon"],
  ];
  for (const [label, make, prediction] of vpCases) {
    it(label, () => {
      const scheduler = make();
      scheduler.setTimesteps(10);
      const result = runOracle(scheduler, trainedAlpha, prediction, vpStart(scheduler.timesteps[0]!));
      // The step after t = 1 goes to ᾱ_0 (set_alpha_to_one false).
      assertClose(result, vpStart(0), 1e-9, label);
    });
  }
});

describe("pndm v-prediction", () => {
  it("converts v to noise at the step's timestep (exact on the first step)", () => {
    // Later PLMS steps mix v outputs of several timesteps before converting, as diffusers does, so only the first is exact.
    const pndm = new PndmScheduler({ ...SD15, prediction_type: "v_prediction" });
    pndm.setTimesteps(10);
    const t = pndm.timesteps[0]!;
    const alpha = Math.sqrt(ALPHAS_CUMPROD[t]!);
    const start = vpStart(t);
    const { prevSample } = pndm.step(oracle(start, alpha, Math.sqrt(1 - alpha ** 2), "v_prediction"), t, start);
    assertClose(prevSample, vpStart(t - 100), 1e-9, "pndm v");
  });
});

describe("state and stochastic steps", () => {
  it("setTimesteps resets multistep history: a second run repeats the first", () => {
    for (const name of ["dpmpp_2m", "pndm", "euler"] as const) {
      const scheduler = createScheduler(name, SD15);
      const run = () => {
        scheduler.setTimesteps(6);
        let sample: Float64Array = Float64Array.from(EPS0);
        for (const t of scheduler.timesteps) {
          const input = scheduler.scaleModelInput(sample, t);
          sample = scheduler.step(input.map((x) => 0.5 * Math.tanh(x)), t, sample).prevSample;
        }
        return sample;
      };
      assert.deepEqual(run(), run(), name);
    }
  });

  it("euler ancestral needs noise except on the last step", () => {
    const scheduler = new EulerAncestralDiscreteScheduler(SD15);
    scheduler.setTimesteps(2);
    const [first, last] = scheduler.timesteps as [number, number];
    assert.throws(() => scheduler.step(EPS0, first, X0), /needs options\.noise/);
    const zeroNoise = new Float64Array(X0.length);
    const step = scheduler.step(EPS0, first, X0, { noise: zeroNoise });
    // With zero noise the step is an Euler step to sigma_down < sigma_next.
    const [sigma, sigmaNext] = scheduler.sigmas as [number, number];
    const sigmaUp = Math.sqrt((sigmaNext ** 2 * (sigma ** 2 - sigmaNext ** 2)) / sigma ** 2);
    const sigmaDown = Math.sqrt(sigmaNext ** 2 - sigmaUp ** 2);
    assertClose(step.prevSample, X0.map((x, i) => x + EPS0[i]! * (sigmaDown - sigma)), 1e-12, "ancestral step");
    assert.doesNotThrow(() => scheduler.step(EPS0, last, step.prevSample));
  });

  it("lcm re-noises with the given noise and returns denoised alone on the last step", () => {
    const lcm = new LcmScheduler(SD15);
    lcm.setTimesteps(2);
    const [first, last] = lcm.timesteps as [number, number];
    assert.throws(() => lcm.step(EPS0, first, X0), /needs options\.noise/);
    const step = lcm.step(EPS0, first, X0, { noise: EPS0 });
    const a = ALPHAS_CUMPROD[last]!;
    assertClose(step.prevSample, step.denoised!.map((d, i) => Math.sqrt(a) * d + Math.sqrt(1 - a) * EPS0[i]!), 1e-12, "lcm renoise");
    const final = lcm.step(EPS0, last, step.prevSample);
    assert.deepEqual(final.prevSample, final.denoised);
  });

  it("ddim with eta > 0 is stochastic and needs noise; eta 0 ignores it", () => {
    const ddim = new DdimScheduler(SD15);
    ddim.setTimesteps(4);
    const t = ddim.timesteps[0]!;
    assert.equal(ddim.stochastic, false);
    assert.throws(() => ddim.step(EPS0, t, X0, { eta: 1 }), /needs options\.noise/);
    const withNoise = ddim.step(EPS0, t, X0, { eta: 1, noise: EPS0 }).prevSample;
    const without = ddim.step(EPS0, t, X0, { eta: 0, noise: EPS0 }).prevSample;
    assert.notDeepEqual(withNoise, without);
    ddim.eta = 0.5;
    assert.equal(ddim.stochastic, true);
  });

  it("rejects a model output of the wrong size", () => {
    const euler = createScheduler("euler", SD15);
    euler.setTimesteps(4);
    assert.throws(() => euler.step(new Float64Array(3), euler.timesteps[0]!, X0), /modelOutput has 3 values/);
  });

  it("scaleModelInput into an out array equals the float64 result, rounded once for float32", () => {
    for (const name of SCHEDULER_NAMES) {
      const scheduler = createScheduler(name, SD15);
      scheduler.setTimesteps(4);
      const t = scheduler.timesteps[0]!;
      const expected = scheduler.scaleModelInput(EPS0, t);
      const into64 = new Float64Array(EPS0.length);
      assert.equal(scheduler.scaleModelInput(EPS0, t, into64), into64, name);
      assert.deepEqual(into64, expected, name);
      assert.deepEqual(scheduler.scaleModelInput(EPS0, t, new Float32Array(EPS0.length)), new Float32Array(expected), name);
      assert.throws(() => scheduler.scaleModelInput(EPS0, t, new Float32Array(3)), /out has 3 values/, name);
    }
  });

  it("writing into recycled results gives the same values, and never into the step's own inputs", () => {
    for (const name of SCHEDULER_NAMES) {
      const run = (recycling: boolean) => {
        const scheduler = createScheduler(name, SD15);
        scheduler.setTimesteps(6);
        let sample: Float64Array = Float64Array.from(X0);
        const results: StepResult[] = [];
        const trajectory: Float64Array[] = [];
        scheduler.timesteps.forEach((t, k) => {
          const input = scheduler.scaleModelInput(sample, t);
          const out = input.map((x) => 0.5 * Math.tanh(x + k));
          const noise = Float64Array.from(EPS0, (e) => e * Math.cos(k));
          // The result before the last, as the pipeline passes it; a caller error (recycling the sample) is ignored.
          const recycle = recycling ? (k % 3 === 2 ? { prevSample: sample } : results[k - 2]) : undefined;
          const result = scheduler.step(out, t, sample, { noise: scheduler.stochastic ? noise : undefined, recycle });
          assert.notEqual(result.prevSample, sample, `${name}: wrote into its sample`);
          results.push(result);
          trajectory.push(result.prevSample.slice());
          sample = result.prevSample;
        });
        return trajectory;
      };
      assert.deepEqual(run(true), run(false), name);
    }
    const euler = createScheduler("euler", SD15);
    euler.setTimesteps(4);
    const [t0, t1, t2] = euler.timesteps as [number, number, number];
    const first = euler.step(EPS0, t0, X0);
    const second = euler.step(EPS0, t1, first.prevSample);
    const third = euler.step(EPS0, t2, second.prevSample, { recycle: first });
    assert.equal(third.prevSample, first.prevSample, "euler reuses a recycled prevSample");
    assert.equal(third.predOriginalSample, first.predOriginalSample, "euler reuses a recycled predOriginalSample");
  });

  it("keeps no reference to modelOutput or noise: a caller may refill them between steps", () => {
    for (const name of SCHEDULER_NAMES) {
      const run = (reuse: boolean) => {
        const scheduler = createScheduler(name, SD15);
        scheduler.setTimesteps(6);
        const modelOutput = new Float64Array(EPS0.length);
        const noise = new Float64Array(EPS0.length);
        let sample: Float64Array = Float64Array.from(X0);
        scheduler.timesteps.forEach((t, k) => {
          const input = scheduler.scaleModelInput(sample, t);
          const out = reuse ? modelOutput : new Float64Array(EPS0.length);
          const z = reuse ? noise : new Float64Array(EPS0.length);
          for (let i = 0; i < out.length; i++) {
            out[i] = 0.5 * Math.tanh(input[i]! + k);
            z[i] = Math.cos(i * 7 + k);
          }
          sample = scheduler.step(out, t, sample, scheduler.stochastic ? { noise: z } : undefined).prevSample;
        });
        return sample;
      };
      assert.deepEqual(run(true), run(false), name);
    }
  });
});

describe("img2img: add_noise and starting part-way", () => {
  it("euler adds sigma-scaled noise at the begin index set by startAtStrength", () => {
    const euler = createScheduler("euler", SD15);
    euler.setTimesteps(10);
    const remaining = startAtStrength(euler, 10, 0.5);
    assert.deepEqual(remaining, euler.timesteps.slice(5));
    const noisy = euler.addNoise(X0, EPS0, remaining[0]!);
    assertClose(noisy, kStart(euler.sigmas![5]!), 1e-12, "euler add_noise");
    // Stepping starts at that index too: the oracle run from there still lands on x0.
    let sample: Float64Array = noisy;
    for (const t of remaining) {
      const input = euler.scaleModelInput(sample, t);
      const i = euler.timesteps.indexOf(t);
      const alpha = 1 / Math.sqrt(euler.sigmas![i]! ** 2 + 1);
      sample = euler.step(oracle(input, alpha, Math.sqrt(1 - alpha ** 2), "epsilon"), t, sample).prevSample;
    }
    assertClose(sample, X0, 1e-9, "img2img euler");
  });

  it("ddim / pndm / lcm noise with sqrt(ᾱ_t) and sqrt(1-ᾱ_t)", () => {
    for (const name of ["ddim", "pndm", "lcm"] as const) {
      const scheduler = createScheduler(name, SD15);
      scheduler.setTimesteps(4);
      assertClose(scheduler.addNoise(X0, EPS0, 501), vpStart(501), 1e-12, name);
    }
  });

  it("dpm++ noises in the VP scale at the timestep's sigma", () => {
    const dpm = createScheduler("dpmpp_2m", SD15);
    dpm.setTimesteps(4);
    const t = dpm.timesteps[1]!;
    assertClose(dpm.addNoise(X0, EPS0, t), vpStart(t), 1e-12, "dpm add_noise");
  });
});

describe("beta schedules", () => {
  it("squaredcos_cap_v2 (cosine) betas give a working DDIM", () => {
    const ddim = new DdimScheduler({ beta_schedule: "squaredcos_cap_v2", clip_sample: false });
    ddim.setTimesteps(5);
    assert.deepEqual(ddim.timesteps, [800, 600, 400, 200, 0]);
    const out = ddim.step(EPS0, 800, X0).prevSample;
    assert.ok(out.every(Number.isFinite));
  });

  it("rescale_betas_zero_snr keeps the terminal sigma finite (ᾱ_T = 2^-24) for Euler", () => {
    const euler = createScheduler("euler", { ...SD_TURBO, rescale_betas_zero_snr: true });
    euler.setTimesteps(4);
    assert.ok(Math.abs(euler.initNoiseSigma - Math.sqrt(2 ** 24 - 1)) < 1e-6);
  });

  it("clip_sample bounds DDIM's x0 prediction", () => {
    const ddim = new DdimScheduler({ ...SD15, clip_sample: true });
    ddim.setTimesteps(4);
    const { predOriginalSample } = ddim.step(X0.map(() => -50), 751, X0);
    assert.ok(predOriginalSample!.every((x) => Math.abs(x) <= 1));
  });
});
