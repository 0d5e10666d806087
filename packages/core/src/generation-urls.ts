import type { Platform } from "./platform.ts";
import type { GenerationUrls } from "./jobs.ts";

/** How long a private image's signed storage URL stays valid. */
export const SIGNED_IMAGE_URL_SECONDS = 3600;

/**
 * How the API (and webhook payloads) reach a generation's images: published
 * images through stable public URLs of the app (`/images/{id}`, which serves
 * public images to anyone), private ones through short-lived signed storage
 * URLs; the live preview through the app, since it changes every few steps.
 */
export function generationUrls(p: Pick<Platform, "config" | "images">): GenerationUrls {
  const site = p.config.publicUrl;
  return {
    apiOrigin: site,
    image: (img) => (img.visibility === "public" ? `${site}/images/${img.id}` : p.images.signedUrl(img.storageKey, SIGNED_IMAGE_URL_SECONDS)),
    thumbnail: (img) =>
      img.visibility === "public" ? `${site}/images/${img.id}/thumbnail` : p.images.signedUrl(img.thumbnailKey!, SIGNED_IMAGE_URL_SECONDS),
    preview: (job) => `${site}/api/v1/generations/${job.id}/preview?step=${job.previewStep ?? 0}`,
  };
}
