import { getViewableImage, notFound } from "@lucid/core";
import { apiRoute } from "../../../../../lib/http.ts";
import { platform } from "../../../../../lib/platform.ts";

export const dynamic = "force-dynamic";

/** One image of the caller's workspace (the PNG bytes); needs `images:read`. */
export const GET = apiRoute<{ params: Promise<{ id: string }> }>(
  async (_req, caller, { params }) => {
    const p = platform();
    const image = await getViewableImage(p, (await params).id, [caller.workspaceId]);
    const object = await p.images.get(image.storageKey);
    if (!object) throw notFound("image data");
    return new Response(Buffer.from(object.body), { headers: { "content-type": image.contentType, "cache-control": "private, no-store" } });
  },
  { scope: "images:read" },
);
