import { toGeneration, type Platform } from "@lucid/core";
import type { Image, Job } from "@lucid/db";

/** The API's view of a job: images as short-lived signed storage URLs. */
export function generationResource(p: Platform, job: Job & { images: Image[] }) {
  return toGeneration(job, (img) => p.images.signedUrl(img.storageKey, 3600));
}
