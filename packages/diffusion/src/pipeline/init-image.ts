// Image-to-image input: the caller's picture as the VAE encoder's sample, then as
// scaled initial latents (diffusers' StableDiffusionImg2ImgPipeline.prepare_latents).
import sharp from "sharp";
import { ModelError, PipelineInputError } from "./errors.ts";
import type { VaeEncoder } from "./sessions.ts";
import { floatTensor, readFloats } from "./tensors.ts";

/** Refuses decompression bombs: 8192×8192 is far beyond any SD resolution. */
const MAX_INPUT_PIXELS = 8192 * 8192;

/**
 * Decodes PNG/JPEG/WebP bytes and fits them to width×height like CSS
 * `object-fit: cover` (scale, centre crop), as NCHW floats in [-1, 1]
 * (diffusers' VaeImageProcessor: x / 255 * 2 - 1). EXIF orientation is applied;
 * alpha is dropped, as PIL's convert("RGB") does.
 */
export async function initImagePixels(bytes: Uint8Array, width: number, height: number): Promise<Float64Array> {
  let rgb: Buffer;
  try {
    rgb = await sharp(bytes, { failOn: "error", limitInputPixels: MAX_INPUT_PIXELS })
      .autoOrient()
      .resize(width, height, { fit: "cover", position: "centre" })
      .toColourspace("srgb")
      .removeAlpha()
      .raw()
      .toBuffer();
  } catch (err) {
    throw new PipelineInputError(`initImage is not a decodable PNG, JPEG or WebP image: ${(err as Error).message}`);
  }
  const plane = width * height;
  if (rgb.length !== plane * 3) throw new PipelineInputError(`initImage decoded to ${rgb.length} bytes, expected ${plane * 3} (RGB)`);
  const chw = new Float64Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) chw[c * plane + p] = (rgb[p * 3 + c]! / 255) * 2 - 1;
  }
  return chw;
}

/**
 * VAE-encodes the pixels and multiplies by the VAE scaling factor. An export that
 * outputs the latent distribution's parameters (2 × latent channels: mean, then
 * logvar) yields its mean: diffusers draws `latent_dist.sample(generator)`, but the
 * mean is the deterministic choice and what the decoder reconstructs best.
 */
export async function encodeInitLatents(
  encoder: VaeEncoder,
  pixels: Float64Array,
  width: number,
  height: number,
  latentChannels: number,
  scalingFactor: number,
): Promise<Float64Array> {
  const { session, imageInput, latentOutput } = encoder;
  const batch = imageInput.shape[0];
  if (typeof batch === "number" && batch !== 1) throw new ModelError(`vae_encoder ${imageInput.name} has a fixed batch of ${batch}; only 1 or dynamic is supported`);
  const result = await session.run({ [imageInput.name]: floatTensor(imageInput.type, pixels, [1, 3, height, width]) });
  const output = result[latentOutput.name]!;
  const [, channels, h, w] = output.dims;
  const cells = h! * w!;
  if (output.dims.length !== 4 || (channels !== latentChannels && channels !== 2 * latentChannels) || cells * latentChannels === 0) {
    throw new ModelError(`vae_encoder returned [${output.dims.join(", ")}]; expected [1, ${latentChannels} or ${2 * latentChannels}, h, w]`);
  }
  // The mean is the first latentChannels planes either way.
  const values = readFloats(output).subarray(0, latentChannels * cells);
  return Float64Array.from(values, (v) => v * scalingFactor);
}
