// Image-to-image on the tiny fixture: strength, reproducibility, input errors.
import assert from "node:assert/strict";
import { cp, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import sharp from "sharp";
import { GraphBuilder } from "../src/fixture/graph-builder.ts";
import { DiffusionEngine, ensureFixtureModel, SCHEDULER_NAMES, type GenerateRequest } from "../src/index.ts";

const W = 64;
const H = 64;
const SCALING = 0.18215;

let root: string;
let modelDir: string;
let pixelVaeDir: string;
let engine: DiffusionEngine;
let gradient: Buffer;
let checkerboard: Buffer;

const rgb = (f: (x: number, y: number, c: number) => number, width = W, height = H) => {
  const px = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) px[(y * width + x) * 3 + c] = f(x, y, c);
  return px;
};
const GRADIENT = rgb((x, y, c) => [x * 4, y * 4, 128][c]!);
const CHECKERBOARD = rgb((x, y) => (((x >> 3) + (y >> 3)) % 2 ? 230 : 20));
const encode = (px: Buffer, format: "png" | "jpeg" | "webp" = "png", width = W, height = H) =>
  sharp(px, { raw: { width, height, channels: 3 } })[format]().toBuffer();

const request = (overrides: Partial<GenerateRequest> = {}): GenerateRequest => ({
  modelDir,
  prompt: "a watercolour of a harbour",
  width: W,
  height: H,
  steps: 20,
  guidance: 7.5,
  seed: 42,
  initImage: gradient,
  ...overrides,
});

async function run(overrides: Partial<GenerateRequest>) {
  const progress: string[] = [];
  const result = await engine.generate(request(overrides), { onProgress: ({ step, total }) => progress.push(`${step}/${total}`) });
  return { image: result.images[0]!, progress, pixels: await sharp(result.images[0]!.png).raw().toBuffer() };
}

const meanAbsoluteDifference = (a: Buffer, b: Buffer) => {
  assert.equal(a.length, b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
};

/**
 * The fixture's VAE has random weights, so decode(encode(x)) is nothing like x and
 * "closer to the input image" cannot be measured with it. This folder swaps in a
 * VAE that really reconstructs: the encoder averages 8×8 blocks of pixels into
 * latents (R, G, B, luma) and, like newer optimum exports, outputs the latent
 * distribution's parameters (mean, then a logvar that would ruin the image were it
 * used); the decoder scales back and upsamples the RGB latents.
 */
async function writePixelVae(dir: string): Promise<void> {
  const enc = new GraphBuilder("vae_encoder", 1, "fp32");
  const x = enc.floatInput("sample", ["batch_size", 3, "height", "width"]);
  const pooled = enc.op("AveragePool", [x], { kernel_shape: [8, 8], strides: [8, 8] });
  const luma = enc.op("ReduceMean", [pooled], { axes: [1], keepdims: 1 });
  const mean = enc.op("Mul", [enc.op("Concat", [pooled, luma], { axis: 1 }), enc.floats("unscale", [1], [1 / SCALING])]);
  const logvar = enc.op("Mul", [mean, enc.floats("ruin", [1], [-5])]);
  enc.floatOutput(enc.op("Concat", [mean, logvar], { axis: 1 }), "latent_parameters", ["batch_size", 8, "latent_height", "latent_width"]);

  const dec = new GraphBuilder("vae_decoder", 2, "fp32");
  const z = dec.floatInput("latent_sample", ["batch_size", 4, "latent_height", "latent_width"]);
  const colour = dec.op("Slice", [z, dec.int64s([0]), dec.int64s([3]), dec.int64s([1])]);
  const scaled = dec.op("Mul", [colour, dec.floats("scale", [1], [SCALING])]);
  const image = dec.op("Resize", [scaled, "", dec.float32s([1, 1, 8, 8])], { mode: "nearest" });
  dec.floatOutput(image, "sample", ["batch_size", 3, "image_height", "image_width"]);

  await writeFile(join(dir, "vae_encoder", "model.onnx"), enc.build().model);
  await writeFile(join(dir, "vae_decoder", "model.onnx"), dec.build().model);
}

before(async () => {
  root = await mkdtemp(join(tmpdir(), "lucid-img2img-"));
  modelDir = join(root, "tiny");
  await ensureFixtureModel(modelDir);
  pixelVaeDir = join(root, "pixel-vae");
  await cp(modelDir, pixelVaeDir, { recursive: true });
  await writePixelVae(pixelVaeDir);
  gradient = await encode(GRADIENT);
  checkerboard = await encode(CHECKERBOARD);
  engine = await DiffusionEngine.create();
});
after(async () => {
  await engine.close();
  await rm(root, { recursive: true, force: true });
});

describe("image-to-image", () => {
  test("returns n images of the requested size from a PNG, JPEG or WebP of another size", async () => {
    const wide = await encode(rgb((x, y, c) => (x * 3 + y + c * 50) % 256, 200, 120), "png", 200, 120);
    for (const format of ["jpeg", "webp"] as const) {
      const initImage = await sharp(wide).toFormat(format).toBuffer();
      const result = await engine.generate(request({ initImage, width: 96, height: 64, n: 2, steps: 8 }));
      assert.equal(result.images.length, 2);
      for (const [i, image] of result.images.entries()) {
        const meta = await sharp(image.png).metadata();
        assert.deepEqual([meta.format, meta.width, meta.height], ["png", 96, 64]);
        assert.deepEqual([image.width, image.height, image.seed], [96, 64, 42 + i]);
      }
      assert.ok(!result.images[0]!.png.equals(result.images[1]!.png), "each image has its own noise");
    }
  });

  test("the same request gives identical bytes; seed, image and strength change them", async () => {
    const base = (await run({})).image.png;
    assert.ok(base.equals((await run({})).image.png));
    assert.ok(!base.equals((await run({ seed: 43 })).image.png));
    assert.ok(!base.equals((await run({ initImage: checkerboard })).image.png));
    assert.ok(!base.equals((await run({ strength: 0.5 })).image.png));
  });

  test("strength 1 runs every step; lower strength runs the last floor(steps × strength)", async () => {
    const full = await run({ strength: 1 });
    assert.deepEqual(full.progress, Array.from({ length: 20 }, (_, i) => `${i + 1}/20`));
    assert.equal((await run({})).progress.at(-1), "15/15", "default strength 0.75");
    assert.deepEqual((await run({ strength: 0.25 })).progress, ["1/5", "2/5", "3/5", "4/5", "5/5"]);
    assert.deepEqual((await run({ steps: 7, strength: 0.5 })).progress, ["1/3", "2/3", "3/3"]);
  });

  test("every scheduler starts part-way and stays reproducible", async () => {
    for (const scheduler of SCHEDULER_NAMES) {
      const first = await run({ scheduler, strength: 0.5, steps: 10 });
      // PNDM's schedule carries one extra timestep, as in diffusers.
      assert.equal(first.progress.at(-1), scheduler === "pndm" ? "6/6" : "5/5", scheduler);
      assert.ok(first.image.png.equals((await run({ scheduler, strength: 0.5, steps: 10 })).image.png), `${scheduler} is reproducible`);
    }
  });

  test("with a VAE that reconstructs, lower strength stays closer to the input image", async () => {
    const distance = async (strength: number) => meanAbsoluteDifference((await run({ modelDir: pixelVaeDir, strength })).pixels, GRADIENT);
    // The fixture's UNet is random, so every step it runs drifts the latents; fewer steps, less drift.
    const strengths = [0.05, 0.2, 0.5, 1];
    const distances: number[] = [];
    for (const strength of strengths) distances.push(await distance(strength));
    const report = strengths.map((s, i) => `${s}: ${distances[i]!.toFixed(1)}`).join(", ");
    for (let i = 1; i < distances.length; i++) assert.ok(distances[i - 1]! < distances[i]!, `distance to the input grows with strength (${report})`);
    assert.ok(distances[0]! < distances.at(-1)! / 4, `one step from the input image stays near it (${report})`);
  });

  test("on the random fixture too, the input image matters more at lower strength", async () => {
    const influence = async (strength: number) =>
      meanAbsoluteDifference((await run({ strength })).pixels, (await run({ strength, initImage: checkerboard })).pixels);
    const [low, full] = [await influence(0.2), await influence(1)];
    assert.ok(low > full && full > 0, `gradient vs checkerboard: ${low.toFixed(3)} at 0.2, ${full.toFixed(3)} at 1.0`);
  });

  test("rejects a bad strength, an undecodable image and a model without vae_encoder", async () => {
    for (const strength of [0, -0.5, 1.01, Number.NaN]) {
      await assert.rejects(engine.generate(request({ strength })), { name: "PipelineInputError", message: /strength must be greater than 0 and at most 1/ });
    }
    for (const scheduler of ["euler", "pndm"] as const) {
      await assert.rejects(engine.generate(request({ strength: 0.04, scheduler })), { name: "PipelineInputError", message: /leaves no denoising step/ });
    }
    await assert.rejects(engine.generate(request({ initImage: undefined, strength: 0.5 })), { name: "PipelineInputError", message: /only with an initImage/ });
    await assert.rejects(engine.generate(request({ initImage: new TextEncoder().encode("definitely not a picture") })), {
      name: "PipelineInputError",
      message: /initImage is not a decodable PNG, JPEG or WebP image/,
    });
    await assert.rejects(engine.generate(request({ initImage: gradient.subarray(0, 60) })), { name: "PipelineInputError" });
    await assert.rejects(engine.generate(request({ initImage: new Uint8Array(0) })), { name: "PipelineInputError" });

    const noEncoder = join(root, "no-encoder");
    await cp(modelDir, noEncoder, { recursive: true });
    await rm(join(noEncoder, "vae_encoder"), { recursive: true });
    await assert.rejects(engine.generate(request({ modelDir: noEncoder })), { name: "PipelineInputError", message: /has no vae_encoder/ });
    // Text-to-image still works on that folder, and the engine after every failure above.
    assert.equal((await engine.generate(request({ modelDir: noEncoder, initImage: undefined, steps: 2 }))).images.length, 1);
    assert.equal((await run({ steps: 4 })).progress.at(-1), "3/3");
  });
});
