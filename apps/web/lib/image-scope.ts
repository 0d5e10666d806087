import type { Generation } from "@lucid/contracts";
import type { Caller } from "./http.ts";

/**
 * Image URLs and contents need the `images:read` scope. Signed storage URLs
 * cannot check a scope, so a caller without it gets each image as the app URL
 * `/api/v1/images/{id}` (which answers 403 `insufficient_scope` for it) and no thumbnail.
 */
export function scopeImages(gen: Generation, caller: Caller, publicUrl: string): Generation {
  if (caller.scopes.includes("images:read")) return gen;
  return { ...gen, images: gen.images.map((img) => ({ ...img, url: `${publicUrl}/api/v1/images/${img.id}`, thumbnail_url: null })) };
}
