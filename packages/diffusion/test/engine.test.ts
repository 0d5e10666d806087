import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import sharp from "sharp";
import { DiffusionEngine, ensureFixtureModel, SCHEDULER_NAMES, type GenerateRequest } from "../src/index.ts";

let root: string;
let modelDir: string;
let engine: DiffusionEngine;

const request = (overrides: Partial<GenerateRequest> = {}): GenerateRequest => ({
  modelDir,
  prompt: "a lighthouse on a cliff at dusk",
  width: 64,
  height: 64,
  steps: 4,
  guidance: 7.5,
  seed: 1234,
  ...overrides,
});

const png = async (r: Partial<GenerateRequest>) => (await engine.generate(request(r))).images[0]!.png;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "lucid-engine-"));
  modelDir = join(root, "tiny");
  await ensureFixtureModel(modelDir);
  engine = await DiffusionEngine.create();
});
after(async () => {
  await engine.close();
  await rm(root, { recursive: true, force: true });
});

describe("DiffusionEngine on the fixture model", () => {
  test("returns n PNGs of the requested size, image i seeded with seed + i", async () => {
    const result = await engine.generate(request({ width: 96, height: 64, n: 2, seed: 7 }));
    assert.equal(result.images.length, 2);
    assert.equal(result.promptTruncated, false);
    for (const [i, image] of result.images.entries()) {
      const meta = await sharp(image.png).metadata();
      assert.equal(meta.format, "png");
      assert.deepEqual([meta.width, meta.height, meta.channels], [96, 64, 3]);
      assert.deepEqual([image.width, image.height, image.seed], [96, 64, 7 + i]);
      const { channels } = await sharp(image.png).stats();
      // Noise, but a real image: not one flat colour.
      assert.ok(channels.every((c) => c.max > c.min), "image is not flat");
    }
    assert.ok(!result.images[0]!.png.equals(result.images[1]!.png));
  });

  test("the same request gives bit-identical PNGs; seed, prompt and negative prompt change them", async () => {
    const base = await png({});
    assert.ok(base.equals(await png({})));
    assert.ok(!base.equals(await png({ seed: 1235 })));
    assert.ok(!base.equals(await png({ prompt: "a bowl of ramen" })));
    assert.ok(!base.equals(await png({ negativePrompt: "blurry" })));
  });

  test("guidance ≤ 1 skips the unconditional pass, so the negative prompt has no effect", async () => {
    const plain = await png({ guidance: 1 });
    assert.ok(plain.equals(await png({ guidance: 1, negativePrompt: "blurry" })));
    assert.ok(!plain.equals(await png({ guidance: 7.5 })));
  });

  test("a stochastic scheduler is still reproducible and differs from the default", async () => {
    const ancestral = await png({ scheduler: "euler_ancestral" });
    assert.ok(ancestral.equals(await png({ scheduler: "euler_ancestral" })));
    assert.ok(!ancestral.equals(await png({})));
  });

  test("every scheduler runs the loop to a valid, reproducible image", async () => {
    const images = new Map<string, Buffer>();
    for (const scheduler of SCHEDULER_NAMES) {
      const progress: string[] = [];
      const run = () => engine.generate(request({ scheduler }), { onProgress: ({ step, total }) => progress.push(`${step}/${total}`) });
      const image = (await run()).images[0]!.png;
      assert.equal((await sharp(image).metadata()).width, 64);
      // PNDM runs one extra timestep; every scheduler ends on total/total.
      const total = progress.length;
      assert.ok(total >= 4 && progress[total - 1] === `${total}/${total}`, `${scheduler}: ${progress.join(" ")}`);
      assert.ok(image.equals((await run()).images[0]!.png), `${scheduler} is reproducible`);
      images.set(scheduler, image);
    }
    assert.equal(new Set([...images.values()].map((b) => b.toString("base64"))).size, SCHEDULER_NAMES.length, "each scheduler gives its own image");
  });

  test("rejects an unknown scheduler name", async () => {
    await assert.rejects(engine.generate(request({ scheduler: "heun" as never })), { name: "PipelineInputError", message: /unknown scheduler heun/ });
  });

  test("reports progress 1..N of N", async () => {
    const seen: string[] = [];
    await engine.generate(request({ steps: 5 }), { onProgress: ({ step, total }) => seen.push(`${step}/${total}`) });
    assert.deepEqual(seen, ["1/5", "2/5", "3/5", "4/5", "5/5"]);
  });

  test("aborting mid-run rejects with AbortError, and the engine keeps working", async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const run = engine.generate(request({ width: 512, height: 512, steps: 50 }), {
      signal: controller.signal,
      onProgress: ({ step }) => {
        seen.push(step);
        if (step === 2) controller.abort();
      },
    });
    await assert.rejects(run, (err: Error) => err.name === "AbortError");
    assert.ok(seen.length < 50, `stopped after ${seen.length} steps`);
    await assert.rejects(engine.generate(request(), { signal: AbortSignal.abort() }), { name: "AbortError" });
    assert.equal((await engine.generate(request())).images.length, 1);
  });

  test("the main thread's event loop keeps turning while a generation runs", async () => {
    // Were inference on this thread, each session.run would hold the loop: only a
    // handful of turns could happen (between runs). Off-thread it spins freely.
    let turns = 0;
    let running = true;
    const spin = () => {
      turns++;
      if (running) setImmediate(spin);
    };
    setImmediate(spin);
    let turnsAtLastStep = 0;
    await engine.generate(request({ width: 512, height: 512, steps: 4, n: 2 }), {
      onProgress: ({ step, total }) => {
        if (step === total) turnsAtLastStep = turns;
      },
    });
    running = false;
    // The VAE decoding of two 512×512 images alone is two long session.run calls.
    const turnsWhileDecoding = turns - turnsAtLastStep;
    assert.ok(turnsWhileDecoding > 1000, `${turnsWhileDecoding} event-loop turns while decoding`);
  });

  test("flags a prompt longer than the text encoder's 77 tokens", async () => {
    const result = await engine.generate(request({ prompt: Array.from({ length: 90 }, (_, i) => `word${i}`).join(" ") }));
    assert.equal(result.promptTruncated, true);
  });

  test("rejects bad requests and non-model folders with clear errors", async () => {
    await assert.rejects(engine.generate(request({ width: 100 })), { name: "PipelineInputError", message: /width must be a positive multiple of 8/ });
    await assert.rejects(engine.generate(request({ steps: 0 })), { name: "PipelineInputError" });
    await assert.rejects(engine.generate(request({ modelDir: root })), { name: "ModelError", message: /model_index\.json is missing/ });
    await assert.rejects(engine.generate(request({ modelDir: join(root, "nope") })), { name: "ModelError", message: /does not exist/ });
  });
});

describe("DiffusionEngine variants", () => {
  test("classifier-free guidance batched in one UNet call equals two separate passes", async () => {
    const separate = await DiffusionEngine.create({ batchGuidance: false });
    try {
      const r = request({ n: 2, width: 64, height: 96 });
      const a = await engine.generate(r);
      const b = await separate.generate(r);
      for (let i = 0; i < 2; i++) assert.ok(a.images[i]!.png.equals(b.images[i]!.png), `image ${i}`);
    } finally {
      await separate.close();
    }
  });

  test("fp16 and external-data fixtures load and generate", async () => {
    for (const options of [{ precision: "fp16" as const }, { externalData: true }]) {
      const dir = join(root, JSON.stringify(options).replace(/\W/g, ""));
      await ensureFixtureModel(dir, options);
      const info = await engine.load(dir);
      assert.equal(info.sampleType, options.precision === "fp16" ? "float16" : "float32");
      const result = await engine.generate(request({ modelDir: dir, width: 128, height: 64 }));
      const meta = await sharp(result.images[0]!.png).metadata();
      assert.deepEqual([meta.width, meta.height], [128, 64]);
      assert.ok(result.images[0]!.png.equals((await engine.generate(request({ modelDir: dir, width: 128, height: 64 }))).images[0]!.png));
    }
  });

  test('executionProvider "cuda" runs on CUDA or falls back to CPU with a warning', async () => {
    const warnings: string[] = [];
    const cuda = await DiffusionEngine.create({ executionProvider: "cuda", onWarning: (m) => warnings.push(m) });
    try {
      const info = await cuda.load(modelDir);
      if (info.executionProvider === "cuda") assert.deepEqual(warnings, []);
      else assert.match(warnings.join("\n"), /CUDA execution provider unavailable, running on CPU/);
      assert.equal((await cuda.generate(request())).images.length, 1);
    } finally {
      await cuda.close();
    }
  });

  test("works from a plain `node --import tsx` process", async () => {
    const { execFile } = await import("node:child_process");
    const script = `
      import { DiffusionEngine } from ${JSON.stringify(new URL("../src/index.ts", import.meta.url).href)};
      const engine = await DiffusionEngine.create();
      const r = await engine.generate({ modelDir: ${JSON.stringify(modelDir)}, prompt: "x", width: 64, height: 64, steps: 2, guidance: 2, seed: 1 });
      await engine.close();
      console.log(r.images[0].png.length);
    `;
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { cwd: new URL("../../..", import.meta.url).pathname }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout),
      ),
    );
    assert.ok(Number(out.trim()) > 0, out);
  });
});
