// Live previews without a VAE pass: a fixed linear map from the 4 latent channels
// to RGB, the "latent2rgb" / "Approx cheap" preview of A1111 and ComfyUI.
import sharp from "sharp";

/**
 * Rows: latent channels L1..L4; columns: R, G, B. Fitted by Keturn for SD 1.4
 * (https://discuss.huggingface.co/t/decoding-latents-to-rgb-without-upscaling/23204/2)
 * and used as-is in A1111's sd_vae_approx.cheap_approximation and ComfyUI's
 * comfy/latent_formats.py SD15.latent_rgb_factors. SD 2.x shares SD 1.x's VAE.
 * Applied to latents in the UNet's (scaled) space; the result is in [-1, 1].
 */
export const SD_LATENT_RGB_FACTORS: readonly (readonly [number, number, number])[] = [
  [0.298, 0.207, 0.208],
  [0.187, 0.286, 0.173],
  [-0.158, 0.189, 0.264],
  [-0.184, -0.271, -0.473],
];

/** Previews are the latent grid upscaled this many times (64×64 → 128×128 for 512²). */
export const PREVIEW_UPSCALE = 2;

export const DEFAULT_PREVIEW_EVERY = 4;

export interface LatentPreview {
  webp: Uint8Array;
  width: number;
  height: number;
}

/** Whether a preview follows step `step` (1-based) of `total`: every `every` steps, never the last. */
export function isPreviewStep(step: number, total: number, every: number): boolean {
  return step < total && step % every === 0;
}

/** One image's latents ([4, h, w], flat) → a small WebP. */
export async function latentPreview(latents: Float64Array, latentWidth: number, latentHeight: number): Promise<LatentPreview> {
  const plane = latentWidth * latentHeight;
  if (latents.length !== SD_LATENT_RGB_FACTORS.length * plane) {
    throw new Error(`latent preview needs ${SD_LATENT_RGB_FACTORS.length}-channel latents`);
  }
  const rgb = new Uint8Array(plane * 3);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < 3; c++) {
      let v = 0;
      for (let l = 0; l < SD_LATENT_RGB_FACTORS.length; l++) v += latents[l * plane + p]! * SD_LATENT_RGB_FACTORS[l]![c]!;
      // As A1111/ComfyUI: ((x + 1) / 2).clamp(0, 1) * 255.
      const unit = (v + 1) / 2;
      rgb[p * 3 + c] = Math.round((unit < 0 ? 0 : unit > 1 ? 1 : unit) * 255);
    }
  }
  const width = latentWidth * PREVIEW_UPSCALE;
  const height = latentHeight * PREVIEW_UPSCALE;
  const webp = await sharp(rgb, { raw: { width: latentWidth, height: latentHeight, channels: 3 } })
    .resize(width, height, { kernel: "linear", fit: "fill" })
    .webp({ quality: 70, effort: 0 })
    .toBuffer();
  // A fresh, exactly-sized ArrayBuffer: it is transferred to the main thread.
  return { webp: new Uint8Array(webp), width, height };
}
