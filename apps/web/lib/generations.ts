import { toGeneration, type Platform } from "@lucid/core";
import type { Image, Job } from "@lucid/db";

/**
 * The API's view of a job: images and thumbnails as short-lived signed storage
 * URLs; the live preview through the app, since it changes every few steps;
 * a queued job's place in the queue.
 */
export function generationResource(p: Platform, job: Job & { images: Image[] }) {
  return toGeneration(
    job,
    {
      image: (img) => p.images.signedUrl(img.storageKey, 3600),
      thumbnail: (img) => p.images.signedUrl(img.thumbnailKey!, 3600),
      preview: (j) => `${p.config.publicUrl}/api/v1/generations/${j.id}/preview?step=${j.previewStep ?? 0}`,
    },
    p,
  );
}

/**
 * Interval of the event stream's `: keep-alive` comments: 15 s, or
 * LUCID_SSE_KEEPALIVE_MS (tests shorten it).
 */
export function sseKeepAliveMs(): number {
  const ms = Number(process.env.LUCID_SSE_KEEPALIVE_MS);
  return Number.isInteger(ms) && ms > 0 ? ms : 15_000;
}
