// The denoising pipeline, after diffusers' StableDiffusionPipeline.__call__ and, with
// an initImage, StableDiffusionImg2ImgPipeline.__call__ (same loop, started part-way).
// Runs inside the engine's worker: every session.run blocks this thread.
import ort from "onnxruntime-node";
import sharp from "sharp";
import { createScheduler, isSchedulerName, startAtStrength } from "../schedulers/index.ts";
import type { Scheduler, StepResult } from "../schedulers/types.ts";
import { abortError, ModelError, PipelineInputError } from "./errors.ts";
import { encodeInitLatents, initImagePixels } from "./init-image.ts";
import { isPreviewStep, latentPreview, SD_LATENT_RGB_FACTORS, type LatentPreview } from "./preview.ts";
import { GaussianNoise } from "./random.ts";
import type { LoadedModel, TensorMetadata, VaeEncoder } from "./sessions.ts";
import { floatTensor, readFloats, type ModelFloats } from "./tensors.ts";
import type { GenerateRequest } from "./types.ts";
import { batchLimit, UnetBatches, type UnetRow } from "./unet-batches.ts";

export interface TextToImageHooks {
  onProgress(step: number, total: number): void;
  /** Polled between steps; true rejects the run with an AbortError. */
  isAborted(): boolean;
  /** Unconditional and conditional guidance halves in one UNet call (when the batch axis allows). */
  batchGuidance: boolean;
  /** Live previews: only computed when present. */
  preview?: {
    every: number;
    onPreview(preview: LatentPreview & { step: number; total: number; imageIndex: number }): void;
  };
}

export interface RawImage {
  png: Uint8Array;
  width: number;
  height: number;
  seed: number;
  thumbnail: { webp: Uint8Array; width: number; height: number };
}

export interface RawResult {
  images: RawImage[];
  promptTruncated: boolean;
  negativePromptTruncated: boolean;
}

const MAX_IMAGES = 16;
/** diffusers' StableDiffusionImg2ImgPipeline default. */
export const DEFAULT_STRENGTH = 0.75;
/** Longer side of GeneratedImage.thumbnail. */
export const THUMBNAIL_MAX_SIDE = 256;

export async function textToImage(model: LoadedModel, request: GenerateRequest, hooks: TextToImageHooks): Promise<RawResult> {
  const { layout, io, info } = model;
  const n = request.n ?? 1;
  validate(request, n, layout.vaeScaleFactor);
  const checkAbort = () => {
    if (hooks.isAborted()) throw abortError();
  };
  checkAbort();
  const encoderLoad = request.initImage ? model.vaeEncoder() : undefined;
  if (encoderLoad === null) {
    throw new PipelineInputError(`initImage needs a VAE encoder, and ${layout.dir} has no vae_encoder/model.onnx`);
  }
  const encoder = encoderLoad ? await encoderLoad : null;

  // 1. Prompt embeddings. diffusers: guidance_scale > 1 enables classifier-free guidance.
  const guided = request.guidance > 1;
  const cond = model.tokenizer.encodeForModelWithInfo(request.prompt);
  const uncond = model.tokenizer.encodeForModelWithInfo(request.negativePrompt ?? "");
  const rows = guided ? [uncond.ids, cond.ids] : [cond.ids];
  const embeddings = await encodeText(model, rows);
  const uncondEmbedding = guided ? embeddings[0]! : null;
  const condEmbedding = embeddings[embeddings.length - 1]!;

  // 2. Scheduler from the model's own config; img2img keeps only the last timesteps.
  const scheduler = createScheduler(request.scheduler ?? layout.defaultScheduler, layout.schedulerConfig);
  scheduler.setTimesteps(request.steps);
  const strength = request.strength ?? DEFAULT_STRENGTH;
  if (request.initImage && Math.trunc(request.steps * strength) < 1) {
    // diffusers raises the same way when steps × strength rounds down to nothing.
    throw new PipelineInputError(`strength ${strength} × ${request.steps} steps leaves no denoising step; raise steps or strength`);
  }
  const timesteps = request.initImage ? startAtStrength(scheduler, request.steps, strength) : scheduler.timesteps;

  // 3. Initial latents: one seeded generator per image, later also its step noise.
  const channels = info.latentChannels;
  const latentHeight = request.height / layout.vaeScaleFactor;
  const latentWidth = request.width / layout.vaeScaleFactor;
  const perImage = channels * latentHeight * latentWidth;
  const generators = Array.from({ length: n }, (_, i) => new GaussianNoise(request.seed + i));
  let latents: Float64Array = new Float64Array(n * perImage);
  generators.forEach((g, i) => g.fill(latents.subarray(i * perImage, (i + 1) * perImage)));
  if (request.initImage) {
    const initLatents = await encodeInitImage(model, encoder!, request, channels, perImage);
    checkAbort();
    // prepare_latents: add_noise(init_latents, noise, timesteps[0]), the same init latents for every image.
    latents = noiseImages(scheduler, initLatents, latents, n, timesteps[0]!);
  } else {
    for (let i = 0; i < latents.length; i++) latents[i]! *= scheduler.initNoiseSigma;
  }

  // 4. Denoising loop.
  const sampleDims = [channels, latentHeight, latentWidth];
  const preview = hooks.preview && channels === SD_LATENT_RGB_FACTORS.length ? hooks.preview : null;
  const unet = new UnetBatches(model, unetGroups(n, uncondEmbedding, condEmbedding, hooks.batchGuidance), perImage, sampleDims, embeddings.dims);
  const imageLatents = (image: number) => latents.subarray(image * perImage, (image + 1) * perImage);
  // Refilled every step: a scheduler keeps no reference to its modelOutput or noise.
  const noisePred = new Float64Array(n * perImage);
  const noise = scheduler.stochastic ? new Float64Array(n * perImage) : undefined;
  // The result before the last: its arrays (the last step's input sample, an old
  // preview estimate) are no longer read, so the scheduler may write into them.
  let previous: StepResult | undefined;
  let spare: StepResult | undefined;
  for (const [index, t] of timesteps.entries()) {
    checkAbort();
    // Rows 0..n-1: each image's unconditional prediction (when guided), then each image's conditional one.
    const outputs = await unet.run(t, (image, out) => scheduler.scaleModelInput(imageLatents(image), t, out));

    for (let i = 0; i < n; i++) {
      const target = noisePred.subarray(i * perImage, (i + 1) * perImage);
      if (uncondEmbedding) guide(target, outputs[i]!, outputs[n + i]!, request.guidance);
      else target.set(outputs[i]!);
    }
    if (noise) generators.forEach((g, i) => g.fill(noise.subarray(i * perImage, (i + 1) * perImage)));
    const result = scheduler.step(noisePred, t, latents, { noise, recycle: spare });
    spare = previous;
    previous = result;
    // LCM's output is the last step's denoised sample (diffusers' LatentConsistencyModelPipeline).
    latents = index === timesteps.length - 1 && result.denoised ? result.denoised : result.prevSample;
    const step = index + 1;
    hooks.onProgress(step, timesteps.length);
    if (preview && isPreviewStep(step, timesteps.length, preview.every)) {
      // The current estimate of the clean latents reads far better than the noisy sample.
      const estimate = result.denoised ?? result.predOriginalSample ?? result.prevSample;
      for (let i = 0; i < n; i++) {
        const image = await latentPreview(estimate.subarray(i * perImage, (i + 1) * perImage), latentWidth, latentHeight);
        preview.onPreview({ ...image, step, total: timesteps.length, imageIndex: i });
      }
    }
  }

  // 5. Decode each image (one at a time: a 512² VAE pass is the memory peak).
  const images: RawImage[] = [];
  for (let i = 0; i < n; i++) {
    checkAbort();
    const scaled = new Float64Array(perImage);
    const source = latents.subarray(i * perImage, (i + 1) * perImage);
    for (let k = 0; k < perImage; k++) scaled[k] = source[k]! / layout.vaeScalingFactor;
    const decoded = await runSingle(model.vaeDecoder, io.latentInput, io.imageOutput, floatTensor(io.latentInput.type, scaled, [1, ...sampleDims]));
    const [, imageChannels, height, width] = decoded.dims;
    if (imageChannels !== 3 || height !== request.height || width !== request.width) {
      throw new ModelError(`vae_decoder returned [${decoded.dims.join(", ")}] for a ${request.width}×${request.height} request`);
    }
    const rgb = toRgb(readFloats(decoded), width, height);
    const [png, thumbnail] = await Promise.all([encodePng(rgb, width, height), encodeThumbnail(rgb, width, height)]);
    images.push({ png, width, height, seed: request.seed + i, thumbnail });
  }
  return { images, promptTruncated: cond.truncated, negativePromptTruncated: uncond.truncated };
}

async function encodeInitImage(model: LoadedModel, encoder: VaeEncoder, request: GenerateRequest, channels: number, perImage: number): Promise<Float64Array> {
  const pixels = await initImagePixels(request.initImage!, request.width, request.height);
  const latents = await encodeInitLatents(encoder, pixels, request.width, request.height, channels, model.layout.vaeScalingFactor);
  if (latents.length !== perImage) {
    throw new ModelError(`vae_encoder made ${latents.length / channels} latent cells for a ${request.width}×${request.height} image; the UNet expects ${perImage / channels}`);
  }
  return latents;
}

/** Each image's seeded noise added to the shared init latents at timestep t. */
function noiseImages(scheduler: Scheduler, initLatents: Float64Array, noise: Float64Array, n: number, t: number): Float64Array {
  const perImage = initLatents.length;
  const out = new Float64Array(n * perImage);
  for (let i = 0; i < n; i++) out.set(scheduler.addNoise(initLatents, noise.subarray(i * perImage, (i + 1) * perImage), t), i * perImage);
  return out;
}

function validate(request: GenerateRequest, n: number, scale: number): void {
  const fail = (message: string) => {
    throw new PipelineInputError(message);
  };
  if (typeof request.prompt !== "string") fail("prompt must be a string");
  if (request.negativePrompt !== undefined && typeof request.negativePrompt !== "string") fail("negativePrompt must be a string");
  for (const side of ["width", "height"] as const) {
    const v = request[side];
    if (!Number.isInteger(v) || v < scale || v % scale !== 0) fail(`${side} must be a positive multiple of ${scale} (got ${v})`);
  }
  if (!Number.isInteger(request.steps) || request.steps < 1 || request.steps > 1000) fail(`steps must be an integer from 1 to 1000 (got ${request.steps})`);
  if (!Number.isFinite(request.guidance) || request.guidance < 0) fail(`guidance must be a number ≥ 0 (got ${request.guidance})`);
  if (!Number.isSafeInteger(request.seed) || request.seed < 0) fail(`seed must be a non-negative integer (got ${request.seed})`);
  if (!Number.isInteger(n) || n < 1 || n > MAX_IMAGES) fail(`n must be an integer from 1 to ${MAX_IMAGES} (got ${n})`);
  if (request.scheduler !== undefined && !isSchedulerName(request.scheduler)) {
    fail(`unknown scheduler ${String(request.scheduler)}`);
  }
  if (request.initImage !== undefined && !(request.initImage instanceof Uint8Array && request.initImage.length > 0)) {
    fail("initImage must be the non-empty bytes of a PNG, JPEG or WebP image");
  }
  if (request.strength !== undefined) {
    if (request.initImage === undefined) fail("strength applies only with an initImage");
    if (!(typeof request.strength === "number" && request.strength > 0 && request.strength <= 1)) {
      fail(`strength must be greater than 0 and at most 1 (got ${request.strength})`);
    }
  }
}

/** Per-row text embeddings (flat [sequence, hidden] each) plus the row shape. */
async function encodeText(model: LoadedModel, rows: number[][]): Promise<Float64Array[] & { dims: number[] }> {
  const { inputIds, textOutput } = model.io;
  const length = rows[0]!.length;
  const outputs = await runRows(batchLimit(inputIds), rows, async (batch) => {
    const flat = batch.flat();
    const dims = [batch.length, length];
    const ids = inputIds.type === "int64" ? new ort.Tensor("int64", BigInt64Array.from(flat, BigInt), dims) : new ort.Tensor("int32", Int32Array.from(flat), dims);
    const result = await model.textEncoder.run({ [inputIds.name]: ids });
    const hidden = result[textOutput.name]!;
    return splitBatch(readFloats(hidden), batch.length);
  });
  const dims = textDims(model, outputs[0]!, length);
  return Object.assign(outputs, { dims });
}

function textDims(model: LoadedModel, row: Float64Array, length: number): number[] {
  const hidden = row.length / length;
  if (!Number.isInteger(hidden)) throw new ModelError(`text_encoder output of ${row.length} values does not split into ${length} tokens`);
  const expected = model.io.context.shape[2];
  if (typeof expected === "number" && expected !== hidden) {
    throw new ModelError(`text_encoder hidden size ${hidden} does not match the UNet's encoder_hidden_states width ${expected}`);
  }
  return [length, hidden];
}

/**
 * The UNet rows of one step in diffusers' order: every image's unconditional row,
 * then every image's conditional row. One group (one call, batch permitting), or
 * with guidance unbatched, the unconditional and the conditional rows apart.
 */
function unetGroups(n: number, uncond: Float64Array | null, cond: Float64Array, batchGuidance: boolean): UnetRow[][] {
  const images = Array.from({ length: n }, (_, image) => image);
  const condRows = images.map((image) => ({ image, context: cond }));
  if (!uncond) return [condRows];
  const uncondRows = images.map((image) => ({ image, context: uncond }));
  return batchGuidance ? [[...uncondRows, ...condRows]] : [uncondRows, condRows];
}

/** Classifier-free guidance: uncond + g·(cond − uncond), in float64. */
function guide(target: Float64Array, uncond: ModelFloats, cond: ModelFloats, g: number): void {
  for (let k = 0; k < target.length; k++) target[k] = uncond[k]! + g * (cond[k]! - uncond[k]!);
}

async function runSingle(session: ort.InferenceSession, input: TensorMetadata, output: TensorMetadata, tensor: ort.Tensor): Promise<ort.Tensor> {
  const limit = batchLimit(input);
  if (Number.isFinite(limit) && limit !== 1) throw new ModelError(`${input.name} has a fixed batch of ${limit}; only 1 or dynamic is supported`);
  const result = await session.run({ [input.name]: tensor });
  return result[output.name]!;
}

/**
 * Runs `items` in calls of at most `limit` rows. A fixed batch larger than what is
 * left is padded with copies of the last row, whose outputs are dropped.
 */
async function runRows<T>(limit: number, items: T[], run: (batch: T[]) => Promise<Float64Array[]>): Promise<Float64Array[]> {
  const out: Float64Array[] = [];
  for (let start = 0; start < items.length; start += Math.min(limit, items.length)) {
    const batch = items.slice(start, start + limit);
    const real = batch.length;
    if (Number.isFinite(limit)) while (batch.length < limit) batch.push(batch[batch.length - 1]!);
    out.push(...(await run(batch)).slice(0, real));
  }
  return out;
}

function splitBatch(data: Float64Array, batch: number): Float64Array[] {
  const size = data.length / batch;
  return Array.from({ length: batch }, (_, i) => data.subarray(i * size, (i + 1) * size));
}

/** NCHW floats in [-1, 1] → interleaved 8-bit RGB, as diffusers' (x / 2 + 0.5).clamp(0, 1) * 255, rounded. */
function toRgb(chw: Float64Array, width: number, height: number): Uint8Array {
  const plane = width * height;
  const rgb = new Uint8Array(plane * 3);
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < plane; p++) {
      const v = chw[c * plane + p]! / 2 + 0.5;
      rgb[p * 3 + c] = Math.round((v < 0 ? 0 : v > 1 ? 1 : v) * 255);
    }
  }
  return rgb;
}

// Raw input must be Uint8: sharp turns Float32 raw pixels into black.
async function encodePng(rgb: Uint8Array, width: number, height: number): Promise<Uint8Array> {
  return sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** Longer side ≤ THUMBNAIL_MAX_SIDE, aspect kept, never enlarged. */
async function encodeThumbnail(rgb: Uint8Array, width: number, height: number): Promise<RawImage["thumbnail"]> {
  const { data, info } = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .resize(THUMBNAIL_MAX_SIDE, THUMBNAIL_MAX_SIDE, { fit: "inside", withoutEnlargement: true })
    .webp({ quality: 80 })
    .toBuffer({ resolveWithObject: true });
  return { webp: data, width: info.width, height: info.height };
}
