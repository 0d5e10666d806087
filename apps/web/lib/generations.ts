import { generationUrls, toGeneration, type Platform } from "@lucid/core";
import type { Image, Job } from "@lucid/db";

/**
 * The API's view of a job: published images through stable public URLs,
 * private ones through short-lived signed storage URLs (core.generationUrls);
 * the live preview through the app; a queued job's place in the queue.
 */
export function generationResource(p: Platform, job: Job & { images: Image[] }) {
  return toGeneration(job, generationUrls(p), p);
}

/**
 * Interval of the event stream's `: keep-alive` comments: 15 s, or
 * LUCID_SSE_KEEPALIVE_MS (tests shorten it).
 */
export function sseKeepAliveMs(): number {
  const ms = Number(process.env.LUCID_SSE_KEEPALIVE_MS);
  return Number.isInteger(ms) && ms > 0 ? ms : 15_000;
}
