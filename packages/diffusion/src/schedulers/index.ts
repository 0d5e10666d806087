// Scheduler entry point: pick a sampler by name and configure it from the
// model's scheduler/scheduler_config.json, as diffusers' Cls.from_config does.
import { DdimScheduler } from "./ddim.ts";
import { DpmSolverMultistepScheduler } from "./dpm-solver-multistep.ts";
import { EulerAncestralDiscreteScheduler } from "./euler-ancestral.ts";
import { EulerDiscreteScheduler } from "./euler.ts";
import { LcmScheduler } from "./lcm.ts";
import { PndmScheduler } from "./pndm.ts";
import type { Scheduler, SchedulerConfig, SchedulerName } from "./types.ts";

export type { Scheduler, SchedulerConfig, SchedulerName, StepOptions, StepResult, Tensor } from "./types.ts";
export { DdimScheduler } from "./ddim.ts";
export { DpmSolverMultistepScheduler } from "./dpm-solver-multistep.ts";
export { EulerAncestralDiscreteScheduler } from "./euler-ancestral.ts";
export { EulerDiscreteScheduler } from "./euler.ts";
export { LcmScheduler } from "./lcm.ts";
export { PndmScheduler } from "./pndm.ts";

export const SCHEDULER_NAMES: readonly SchedulerName[] = [
  "euler",
  "euler_ancestral",
  "ddim",
  "lcm",
  "dpmpp_2m",
  "dpmpp_2m_karras",
  "pndm",
];

export function isSchedulerName(name: string): name is SchedulerName {
  return (SCHEDULER_NAMES as readonly string[]).includes(name);
}

/**
 * A scheduler of the named kind configured from a diffusers scheduler config.
 * Keys the class does not know are ignored; the DPM++ 2M names fix the solver
 * (dpmsolver++, order 2) and Karras sigmas on or off, whatever the config says.
 */
export function createScheduler(name: SchedulerName, config: SchedulerConfig = {}): Scheduler {
  switch (name) {
    case "euler":
      return new EulerDiscreteScheduler(config);
    case "euler_ancestral":
      return new EulerAncestralDiscreteScheduler(config);
    case "ddim":
      return new DdimScheduler(config);
    case "lcm":
      return new LcmScheduler(config);
    case "dpmpp_2m":
    case "dpmpp_2m_karras":
      return new DpmSolverMultistepScheduler(config, {
        algorithm_type: "dpmsolver++",
        solver_order: 2,
        use_karras_sigmas: name === "dpmpp_2m_karras",
      });
    case "pndm":
      return new PndmScheduler(config);
    default:
      throw new Error(`unknown scheduler ${JSON.stringify(name satisfies never)}`);
  }
}

/**
 * img2img: starts the schedule part-way like diffusers' get_timesteps, after
 * `setTimesteps(numInferenceSteps)`. Returns
 * the timesteps still to run (the first is where add_noise should noise the
 * input image); `strength` 1 keeps them all.
 */
export function startAtStrength(scheduler: Scheduler, numInferenceSteps: number, strength: number): number[] {
  if (!(strength >= 0 && strength <= 1)) throw new Error(`strength must be within [0, 1], got ${strength}`);
  const steps = numInferenceSteps;
  const initTimestep = Math.min(Math.trunc(steps * strength), steps);
  const start = Math.max(steps - initTimestep, 0) * scheduler.order;
  scheduler.setBeginIndex(start);
  return scheduler.timesteps.slice(start);
}
