import { getViewableImage, notFound } from "@lucid/core";
import { errorResponse } from "./http.ts";
import { platform } from "./platform.ts";
import { currentViewer } from "./session.ts";

/**
 * Serves an image (or its WebP thumbnail, falling back to the PNG) to whoever
 * may see it: anyone if public, else its workspace's members; 404 for the rest.
 */
export async function serveImage(imageId: string, variant: "full" | "thumbnail"): Promise<Response> {
  try {
    const p = platform();
    const viewer = await currentViewer();
    const image = await getViewableImage(p, imageId, viewer ? [viewer.workspace.id] : []);
    const thumb = variant === "thumbnail" && image.thumbnailKey;
    const object = await p.images.get(thumb ? image.thumbnailKey! : image.storageKey);
    if (!object) return errorResponse(notFound("image data"));
    return new Response(Buffer.from(object.body), {
      headers: {
        "content-type": thumb ? "image/webp" : image.contentType,
        "cache-control": image.visibility === "public" ? "public, max-age=300" : "private, no-store",
      },
    });
  } catch (err) {
    return errorResponse(err);
  }
}
