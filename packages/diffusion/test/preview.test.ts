// Live previews during a generation and the thumbnail of each finished image.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { Worker } from "node:worker_threads";
import sharp from "sharp";
import { DiffusionEngine, ensureFixtureModel, type GeneratePreview, type GenerateRequest } from "../src/index.ts";

let root: string;
let modelDir: string;
let engine: DiffusionEngine;

const request = (overrides: Partial<GenerateRequest> = {}): GenerateRequest => ({
  modelDir,
  prompt: "a fox in the snow",
  width: 128,
  height: 96,
  steps: 10,
  guidance: 7.5,
  seed: 99,
  ...overrides,
});

async function withPreviews(r: Partial<GenerateRequest>, previewEvery?: number) {
  const previews: GeneratePreview[] = [];
  const progress: number[] = [];
  const result = await engine.generate(request(r), {
    previewEvery,
    onProgress: ({ step }) => progress.push(step),
    onPreview: (p) => {
      // A preview comes after its step's progress report.
      assert.equal(progress.at(-1), p.step);
      previews.push(p);
    },
  });
  return { result, previews };
}

/** The engine's worker, to watch the messages it sends. */
const workerOf = (e: DiffusionEngine) => (e as unknown as { worker: Worker }).worker;

before(async () => {
  root = await mkdtemp(join(tmpdir(), "lucid-preview-"));
  modelDir = join(root, "tiny");
  await ensureFixtureModel(modelDir);
  engine = await DiffusionEngine.create();
});
after(async () => {
  await engine.close();
  await rm(root, { recursive: true, force: true });
});

describe("live previews", () => {
  test("arrive every 4 steps by default, never on the last step, as WebPs twice the latent size", async () => {
    const { previews } = await withPreviews({});
    assert.deepEqual(
      previews.map((p) => `${p.step}/${p.total}#${p.imageIndex}`),
      ["4/10#0", "8/10#0"],
    );
    for (const p of previews) {
      assert.ok(Buffer.isBuffer(p.webp));
      const meta = await sharp(p.webp).metadata();
      // 128×96 pixels → 16×12 latents → 32×24 preview.
      assert.deepEqual([meta.format, meta.width, meta.height, p.width, p.height], ["webp", 32, 24, 32, 24]);
      const { channels } = await sharp(p.webp).stats();
      assert.ok(channels.some((c) => c.max > c.min), "preview is not one flat colour");
    }
    assert.ok(!previews[0]!.webp.equals(previews[1]!.webp), "the picture moves between previews");
    // Steps a multiple of previewEvery: the last one is the final image's job.
    assert.deepEqual((await withPreviews({ steps: 8 })).previews.map((p) => p.step), [4]);
  });

  test("previewEvery, n images and img2img's shorter schedule", async () => {
    const every = await withPreviews({ steps: 5 }, 1);
    assert.deepEqual(every.previews.map((p) => `${p.step}/${p.total}`), ["1/5", "2/5", "3/5", "4/5"]);

    const two = await withPreviews({ n: 2, steps: 6 }, 3);
    assert.deepEqual(two.previews.map((p) => `${p.step}#${p.imageIndex}`), ["3#0", "3#1"]);
    assert.ok(!two.previews[0]!.webp.equals(two.previews[1]!.webp), "each image has its own preview");

    const initImage = await sharp({ create: { width: 128, height: 96, channels: 3, background: { r: 200, g: 80, b: 30 } } }).png().toBuffer();
    const img2img = await withPreviews({ initImage, strength: 0.5, steps: 16 });
    assert.deepEqual(img2img.previews.map((p) => `${p.step}/${p.total}`), ["4/8"], "total is the steps actually run");

    await assert.rejects(engine.generate(request(), { onPreview: () => undefined, previewEvery: 0 }), { name: "PipelineInputError", message: /previewEvery/ });
  });

  test("are reproducible and leave the final image untouched", async () => {
    const a = await withPreviews({ scheduler: "euler_ancestral" });
    const b = await withPreviews({ scheduler: "euler_ancestral" });
    assert.deepEqual(a.previews.map((p) => p.webp.toString("base64")), b.previews.map((p) => p.webp.toString("base64")));
    const plain = await engine.generate(request({ scheduler: "euler_ancestral" }));
    assert.ok(plain.images[0]!.png.equals(a.result.images[0]!.png));
  });

  test("are not made at all unless onPreview is given", async () => {
    const seen: string[] = [];
    await engine.load(modelDir); // the worker is running
    const worker = workerOf(engine);
    const watch = (message: { type: string }) => seen.push(message.type);
    worker.on("message", watch);
    try {
      await engine.generate(request({ steps: 9 }), { onProgress: () => undefined, previewEvery: 1 });
      assert.ok(seen.includes("progress") && seen.includes("result"), seen.join(" "));
      assert.ok(!seen.includes("preview"), seen.join(" "));
      seen.length = 0;
      await engine.generate(request({ steps: 9 }), { onPreview: () => undefined });
      assert.equal(seen.filter((t) => t === "preview").length, 2, "the same watch sees previews when asked for");
    } finally {
      worker.off("message", watch);
    }
  });

  test("a throwing onPreview does not fail the generation", async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on("warning", onWarning);
    try {
      const result = await engine.generate(request(), {
        onPreview: () => {
          throw new Error("preview sink is down");
        },
      });
      assert.equal(result.images.length, 1);
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      assert.ok(warnings.some((w) => /onPreview threw: preview sink is down/.test(w)), warnings.join("\n"));
    } finally {
      process.off("warning", onWarning);
    }
  });
});

describe("thumbnails", () => {
  test("are WebPs whose longer side is at most 256 px, keeping the aspect ratio", async () => {
    const cases: [number, number, number, number][] = [
      [512, 384, 256, 192],
      [320, 640, 128, 256],
      [256, 256, 256, 256],
      [128, 96, 128, 96], // never enlarged
      [520, 200, 256, 98], // 256 × 200 / 520 = 98.46, rounded
    ];
    for (const [width, height, tw, th] of cases) {
      const { images } = await engine.generate(request({ width, height, steps: 2 }));
      const { thumbnail, png } = images[0]!;
      assert.ok(Buffer.isBuffer(thumbnail.webp));
      const meta = await sharp(thumbnail.webp).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ["webp", tw, th], `${width}×${height}`);
      assert.deepEqual([thumbnail.width, thumbnail.height], [tw, th]);
      assert.ok(Math.max(tw, th) <= 256);
      // Aspect ratio kept: the shorter side is the longer one scaled, to the pixel.
      const shorter = width >= height ? [th, (tw * height) / width] : [tw, (th * width) / height];
      assert.ok(Math.abs(shorter[0]! - shorter[1]!) < 1, `${width}×${height} aspect ratio`);

      // It shows the image: close to the PNG scaled the same way.
      const expected = await sharp(png).resize(tw, th).raw().toBuffer();
      const actual = await sharp(thumbnail.webp).removeAlpha().raw().toBuffer();
      let sum = 0;
      for (let i = 0; i < expected.length; i++) sum += Math.abs(expected[i]! - actual[i]!);
      assert.ok(sum / expected.length < 12, `${width}×${height}: thumbnail differs from the image by ${(sum / expected.length).toFixed(1)} per channel`);
    }
  });

  test("come with every image of an image-to-image request too", async () => {
    const initImage = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#3366cc" } }).webp().toBuffer();
    const { images } = await engine.generate(request({ n: 2, initImage, strength: 0.6 }));
    for (const image of images) {
      const meta = await sharp(image.thumbnail.webp).metadata();
      assert.deepEqual([meta.format, meta.width, meta.height], ["webp", 128, 96]);
    }
    assert.ok(!images[0]!.thumbnail.webp.equals(images[1]!.thumbnail.webp));
  });
});

describe("negative prompt truncation", () => {
  test("is reported apart from the prompt's", async () => {
    const long = Array.from({ length: 90 }, (_, i) => `word${i}`).join(" ");
    const cut = await engine.generate(request({ negativePrompt: long, steps: 1 }));
    assert.deepEqual([cut.promptTruncated, cut.negativePromptTruncated], [false, true]);
    const fine = await engine.generate(request({ prompt: long, negativePrompt: "blurry", steps: 1 }));
    assert.deepEqual([fine.promptTruncated, fine.negativePromptTruncated], [true, false]);
  });
});
