// Reproduces diffusers' own runs (test/conformance/schedulers-sd15.json, float64)
// of every scheduler on a fake model, to a relative 1e-9.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { createScheduler, type SchedulerName } from "../src/schedulers/index.ts";

interface ReferenceStep {
  i: number;
  t: number;
  model_input?: number[];
  noise_index?: number;
  prev_sample: number[];
  denoised?: number[];
}

interface ReferenceCase {
  id: string;
  variant: string;
  num_inference_steps: number;
  constructor_kwargs: Record<string, unknown>;
  step_kwargs: { eta?: number };
  float64: {
    timesteps: number[];
    sigmas?: number[];
    init_noise_sigma: number;
    latents_scaled: number[];
    steps: ReferenceStep[];
    final_sample: number[];
    noise_indices_used: number[];
  };
}

const reference = JSON.parse(
  readFileSync(new URL("./conformance/schedulers-sd15.json", import.meta.url), "utf8"),
) as { initial_latent: { values: number[] }; noise_bank: { values: number[][] }; cases: ReferenceCase[] };

const RELATIVE = 1e-9;

function assertClose(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    // Relative to the value, floored at 1e-6 of the tensor's scale for entries near zero.
    const tolerance = RELATIVE * Math.max(Math.abs(e), 1e-6);
    assert.ok(Math.abs(a - e) <= tolerance, `${what}[${i}]: ${a} vs ${e} (diff ${Math.abs(a - e)})`);
  }
}

/** The reference's fake UNet: 0.5·tanh(x) + 0.1·cos(t/100). */
function fakeModel(input: Float64Array, t: number): Float64Array {
  const shift = 0.1 * Math.cos(t / 100);
  return input.map((x) => 0.5 * Math.tanh(x) + shift);
}

describe("schedulers reproduce diffusers (sd15 config, float64)", () => {
  for (const referenceCase of reference.cases) {
    it(referenceCase.id, () => {
      const expected = referenceCase.float64;
      const scheduler = createScheduler(referenceCase.variant as SchedulerName, referenceCase.constructor_kwargs);
      scheduler.setTimesteps(referenceCase.num_inference_steps);
      assertClose(scheduler.timesteps, expected.timesteps, "timesteps");
      if (expected.sigmas) assertClose(scheduler.sigmas ?? [], expected.sigmas, "sigmas");
      assertClose([scheduler.initNoiseSigma], [expected.init_noise_sigma], "init_noise_sigma");

      let latents: Float64Array = Float64Array.from(reference.initial_latent.values, (x) => x * scheduler.initNoiseSigma);
      assertClose(latents, expected.latents_scaled, "latents_scaled");
      assert.equal(expected.steps.length, scheduler.timesteps.length);
      let output: Float64Array = latents;
      const noiseUsed: number[] = [];
      scheduler.timesteps.forEach((t, i) => {
        const step = expected.steps[i]!;
        assert.equal(t, step.t, `step ${i} timestep`);
        const input = scheduler.scaleModelInput(latents, t);
        if (step.model_input) assertClose(input, step.model_input, `step ${i} model_input`);
        const noise = step.noise_index === undefined ? undefined : Float64Array.from(reference.noise_bank.values[step.noise_index]!);
        if (step.noise_index !== undefined) noiseUsed.push(step.noise_index);
        const result = scheduler.step(fakeModel(input, t), t, latents, { noise, eta: referenceCase.step_kwargs.eta });
        assertClose(result.prevSample, step.prev_sample, `step ${i} prev_sample`);
        if (step.denoised) assertClose(result.denoised!, step.denoised, `step ${i} denoised`);
        latents = result.prevSample;
        output = result.denoised ?? result.prevSample;
      });
      assert.deepEqual(noiseUsed, expected.noise_indices_used);
      assertClose(output, expected.final_sample, "final_sample");
    });
  }
});
