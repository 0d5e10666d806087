// `npm run bench:engine`: how much the pipeline costs on top of ONNX Runtime.
//
// On the `bench` fixture (10 UNet blocks, 64×64 latents = 512×512 images):
//  1. pipeline time per denoising step: DiffusionEngine.generate with STEPS steps,
//     timed by the onProgress events (the interval between the progress events of
//     steps k and k+1, k ≥ 1, is one whole step: scale input, tensors in/out, UNet,
//     guidance, scheduler step, message to this thread; text encoding, the first
//     step's warm-up and the VAE decode fall outside). Cross-checked by the
//     difference method: (T(STEPS) − T(1)) / (STEPS − 1) over whole generate calls.
//  2. raw onnxruntime-node InferenceSession.run of the same UNet file with the same
//     session options (graphOptimizationLevel "all", default thread pools, CPU) on the
//     same input shapes (batch 2: classifier-free guidance, batched as the engine does).
//     Also the same raw runs inside a worker_threads worker (where the engine runs),
//     to tell the thread's cost from the pipeline code's. Each round measures raw and
//     engine back to back, each alone in the process, raw first in even rounds and the
//     engine first in odd ones (then the worker raw runs); the overhead is the median
//     over rounds of each round's pair (engine median vs raw median of that round), so
//     load that other processes put on the machine between rounds cancels out.
//  3. scheduler.step and scaleModelInput per scheduler on a 4×64×64 latent; 4. tokenizer prompts/s;
//  5. peak RSS (process.resourceUsage().maxRSS, the whole process: the engine's worker
//     thread and this thread's raw session included).
// Medians throughout, after warm-up. Not part of the test suite.
import { mkdtemp, rm } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { Worker } from "node:worker_threads";
import ort from "onnxruntime-node";
import {
  createScheduler,
  DiffusionEngine,
  ensureFixtureModel,
  GaussianNoise,
  loadClipTokenizer,
  readModelLayout,
  SCHEDULER_NAMES,
  SD15_SCHEDULER_CONFIG,
  type GenerateRequest,
} from "../src/index.ts";

const STEPS = Number(process.env.BENCH_STEPS ?? 20);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const SIZE = 512;
const GUIDANCE = 7.5;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const ms = (x: number) => `${x.toFixed(2)} ms`;

async function main(): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), "lucid-bench-"));
  try {
    const modelDir = join(root, "bench");
    let t0 = performance.now();
    await ensureFixtureModel(modelDir, { size: "bench" });
    console.log(`bench fixture written in ${ms(performance.now() - t0)} (${modelDir})`);
    console.log(`node ${process.version}, onnxruntime-node ${ort.env.versions.common}, ${availableParallelism()} CPUs; ${SIZE}×${SIZE}, guidance ${GUIDANCE}, ${STEPS} steps, ${ROUNDS} rounds\n`);

    const layout = await readModelLayout(modelDir);
    const request = (steps: number, seed: number): GenerateRequest => ({
      modelDir,
      prompt: "a lighthouse on a cliff at dusk, volumetric light",
      width: SIZE,
      height: SIZE,
      steps,
      guidance: GUIDANCE,
      seed,
    });
    const pipelineSteps: number[] = [];
    const rawRuns: number[] = [];
    const workerRuns: number[] = [];
    const fullRuns: number[] = [];
    const oneStepRuns: number[] = [];
    /** Per round: [median pipeline step, median raw run]. */
    const pairs: [number, number][] = [];
    // Raw ONNX Runtime and the engine each run with only their own session alive: two
    // sessions' intra-op thread pools in one process spin against each other and slow both.
    const measureRaw = async (): Promise<number[]> => {
      const times: number[] = [];
      const raw = await ort.InferenceSession.create(layout.unetPath, { graphOptimizationLevel: "all", logSeverityLevel: 3, executionProviders: ["cpu"] });
      try {
        const feeds = unetFeeds(raw, 2, SIZE / 8);
        for (let i = 0; i < 3; i++) await raw.run(feeds);
        for (let i = 0; i < STEPS; i++) {
          const start = performance.now();
          await raw.run(feeds);
          times.push(performance.now() - start);
        }
      } finally {
        await raw.release();
      }
      return times;
    };
    const measureEngine = async (round: number): Promise<number[]> => {
      const steps: number[] = [];
      const engine = await DiffusionEngine.create({ executionProvider: "cpu" });
      try {
        await engine.generate(request(2, 0)); // loads the sessions in the worker, primes kernels and arenas
        const stamps: number[] = [];
        t0 = performance.now();
        await engine.generate(request(STEPS, round + 1), { onProgress: () => stamps.push(performance.now()) });
        fullRuns.push(performance.now() - t0);
        for (let k = 1; k < stamps.length; k++) steps.push(stamps[k]! - stamps[k - 1]!);
        t0 = performance.now();
        await engine.generate(request(1, round + 1));
        oneStepRuns.push(performance.now() - t0);
      } finally {
        await engine.close();
      }
      return steps;
    };
    for (let round = 0; round < ROUNDS; round++) {
      let raw: number[];
      let steps: number[];
      if (round % 2 === 0) {
        raw = await measureRaw();
        steps = await measureEngine(round);
      } else {
        steps = await measureEngine(round);
        raw = await measureRaw();
      }
      rawRuns.push(...raw);
      pipelineSteps.push(...steps);
      pairs.push([median(steps), median(raw)]);
      workerRuns.push(...(await rawUnetInWorker(layout.unetPath, STEPS)));
    }
    const step = median(pipelineSteps);
    const unet = median(rawRuns);
    const difference = (median(fullRuns) - median(oneStepRuns)) / (STEPS - 1);
    const overheadMs = median(pairs.map(([s, r]) => s - r));
    const overhead = median(pairs.map(([s, r]) => s / r - 1));

    {
      // 3. Scheduler steps on one 4×64×64 latent.
      const schedulerRows: [string, string][] = [];
      const latentSize = 4 * 64 * 64;
      const noiseSource = new GaussianNoise(7);
      const fill = () => {
        const x = new Float64Array(latentSize);
        noiseSource.fill(x);
        return x;
      };
      const modelOutput = fill();
      const noise = fill();
      for (const name of SCHEDULER_NAMES) {
        const steps: number[] = [];
        const scales: number[] = [];
        for (let round = 0; round < ROUNDS + 1; round++) {
          const scheduler = createScheduler(name, SD15_SCHEDULER_CONFIG);
          scheduler.setTimesteps(STEPS);
          let sample: Float64Array = fill();
          for (const t of scheduler.timesteps) {
            // scaleModelInput runs once per step in the pipeline too, before the UNet.
            let start = performance.now();
            scheduler.scaleModelInput(sample, t);
            const scaled = performance.now() - start;
            start = performance.now();
            sample = scheduler.step(modelOutput, t, sample, scheduler.stochastic ? { noise } : undefined).prevSample;
            if (round > 0) {
              // round 0 warms the JIT
              steps.push(performance.now() - start);
              scales.push(scaled);
            }
          }
        }
        schedulerRows.push([name, `${ms(median(steps))} step + ${ms(median(scales))} scaleModelInput`]);
      }

      // 4. Tokenizer throughput on distinct prompts (no two the same, so no cache hides the BPE work).
      const tokenizer = await loadClipTokenizer(layout.tokenizerDir);
      const prompts = syntheticPrompts(2000);
      for (const p of prompts.slice(0, 200)) tokenizer.encodeForModel(p);
      const rates: number[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        const fresh = syntheticPrompts(2000, round + 100);
        const start = performance.now();
        for (const p of fresh) tokenizer.encodeForModel(p);
        rates.push(fresh.length / ((performance.now() - start) / 1000));
      }

      const pooled = (step - unet) / unet;
      const rows: [string, string][] = [
        ["pipeline step (onProgress intervals, median)", ms(step)],
        ["pipeline step ((T(N) − T(1)) / (N − 1))", ms(difference)],
        ["raw UNet InferenceSession.run (batch 2, median)", ms(unet)],
        ["  the same, in a worker thread like the engine", ms(median(workerRuns))],
        ["pipeline overhead per step (median of rounds' pairs)", `${ms(overheadMs)} = ${(overhead * 100).toFixed(2)} % ${overhead < 0.03 ? "(< 3 %: OK)" : "(target < 3 %: MISSED)"}`],
        ["  per round", pairs.map(([s, r]) => `${((s / r - 1) * 100).toFixed(1)} %`).join(", ")],
        ["  unpaired (pooled step median vs pooled raw median)", `${ms(step - unet)} = ${(pooled * 100).toFixed(2)} %`],
        [`whole generate, ${STEPS} steps (median)`, ms(median(fullRuns))],
        ["whole generate, 1 step (median)", ms(median(oneStepRuns))],
        ...schedulerRows.map(([name, time]): [string, string] => [`scheduler ${name} (4×64×64)`, time]),
        ["tokenizer (distinct prompts, median)", `${Math.round(median(rates)).toLocaleString("en")} prompts/s`],
        ["peak RSS (maxRSS, whole process)", `${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`],
        // Other processes' load skews all timings on a small machine: say how busy it was.
        ["machine load average (1 min) at the end", loadavg()[0]!.toFixed(2)],
      ];
      const width = Math.max(...rows.map(([k]) => k.length));
      for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
      if (loadavg()[0]! > availableParallelism() - 0.5) {
        console.log(`\nwarning: the machine was busy (load ${loadavg()[0]!.toFixed(2)} on ${availableParallelism()} CPUs); other processes skew these timings, run again when it is idle`);
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

/** The UNet feeds the engine builds for `batch` rows: random sample and context, timestep 500. */
function unetFeeds(session: ort.InferenceSession, batch: number, latent: number): Record<string, ort.Tensor> {
  const meta = (name: string) => {
    const m = session.inputMetadata.find((x) => x.name === name);
    if (!m?.isTensor) throw new Error(`UNet input ${name} missing`);
    return m;
  };
  const random = (n: number) => {
    const x = new Float64Array(n);
    new GaussianNoise(1).fill(x);
    return Float32Array.from(x);
  };
  const context = meta("encoder_hidden_states");
  const hidden = context.shape[2];
  if (typeof hidden !== "number") throw new Error("encoder_hidden_states has no fixed width");
  const timestep = meta("timestep");
  const dims = timestep.shape.length === 0 ? [] : [1];
  const t =
    timestep.type === "int64"
      ? new ort.Tensor("int64", BigInt64Array.of(500n), dims)
      : timestep.type === "int32"
        ? new ort.Tensor("int32", Int32Array.of(500), dims)
        : new ort.Tensor("float32", Float32Array.of(500), dims);
  return {
    sample: new ort.Tensor("float32", random(batch * 4 * latent * latent), [batch, 4, latent, latent]),
    timestep: t,
    encoder_hidden_states: new ort.Tensor("float32", random(batch * 77 * hidden), [batch, 77, hidden]),
  };
}

/**
 * Raw UNet runs inside a worker_threads worker, where the engine runs its sessions:
 * separates the cost of the thread from the cost of the pipeline's own code.
 */
async function rawUnetInWorker(path: string, runs: number): Promise<number[]> {
  const code = `
    const { parentPort, workerData } = require("node:worker_threads");
    const ort = require("onnxruntime-node");
    (async () => {
      const session = await ort.InferenceSession.create(workerData.path, { graphOptimizationLevel: "all", logSeverityLevel: 3, executionProviders: ["cpu"] });
      const feeds = {};
      for (const [name, t] of Object.entries(workerData.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
      for (let i = 0; i < 3; i++) await session.run(feeds);
      const times = [];
      for (let i = 0; i < workerData.runs; i++) {
        const start = performance.now();
        await session.run(feeds);
        times.push(performance.now() - start);
      }
      await session.release();
      parentPort.postMessage(times);
    })().catch((err) => { throw err; });`;
  const probe = await ort.InferenceSession.create(path, { executionProviders: ["cpu"], logSeverityLevel: 3 });
  const feeds = Object.fromEntries(Object.entries(unetFeeds(probe, 2, SIZE / 8)).map(([name, t]) => [name, { type: t.type, data: t.data, dims: t.dims }]));
  await probe.release();
  const worker = new Worker(code, { eval: true, workerData: { path, runs, feeds } });
  try {
    return await new Promise<number[]>((resolve, reject) => {
      worker.once("message", resolve);
      worker.once("error", reject);
    });
  } finally {
    await worker.terminate();
  }
}

const WORDS =
  "portrait landscape castle forest river mountain dragon robot city night neon rain golden hour cinematic detailed watercolor oil painting sketch photograph macro lens bokeh fog snow desert ocean wave lighthouse cliff sunset astronaut cat dog fox owl garden market street cafe library ancient futuristic ruins temple glowing crystal cave volcano aurora starry sky reflection mirror vintage film grain minimalist surreal baroque gothic pastel vivid intricate ornate".split(
    " ",
  );

/** Distinct prompts of 8–30 words (seeded), each ending in a unique number so no two repeat. */
function syntheticPrompts(count: number, seed = 1): string[] {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 2 ** 32;
  };
  return Array.from({ length: count }, (_, i) => {
    const n = 8 + Math.floor(next() * 23);
    const words = Array.from({ length: n }, () => WORDS[Math.floor(next() * WORDS.length)]!);
    return `${words.join(" ")}, style ${seed}-${i}`;
  });
}

await main();
