import { getViewableImage } from "@lucid/core";
import { errorResponse } from "../../../lib/http.ts";
import { platform } from "../../../lib/platform.ts";
import { currentViewer } from "../../../lib/session.ts";

export const dynamic = "force-dynamic";

/** Serves an image to whoever may see it: anyone if public, else its workspace's members. */
export async function GET(_req: Request, { params }: { params: Promise<{ id: string }> }) {
  try {
    const p = platform();
    const viewer = await currentViewer();
    const image = await getViewableImage(p, (await params).id, viewer ? [viewer.workspace.id] : []);
    const object = await p.images.get(image.storageKey);
    if (!object) return new Response("image data missing", { status: 404 });
    return new Response(Buffer.from(object.body), {
      headers: {
        "content-type": image.contentType,
        "cache-control": image.visibility === "public" ? "public, max-age=300" : "private, no-store",
      },
    });
  } catch (err) {
    return errorResponse(err);
  }
}
