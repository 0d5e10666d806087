import { generationEventStream, getJob } from "@lucid/core";
import { apiRoute } from "../../../../../../lib/http.ts";
import { platform } from "../../../../../../lib/platform.ts";
import { generationResource, sseKeepAliveMs } from "../../../../../../lib/generations.ts";
import { scopeImages } from "../../../../../../lib/image-scope.ts";

export const dynamic = "force-dynamic";

/**
 * Server-sent events of one generation: an `event: generation` with the full
 * object for every status change and progress step, `: keep-alive` comments
 * while idle, and the end of the stream after the terminal object.
 */
export const GET = apiRoute<{ params: Promise<{ id: string }> }>(async (req, caller, { params }) => {
  const p = platform();
  const job = await getJob(p, caller.workspaceId, (await params).id); // 404 before the stream starts
  const stream = generationEventStream(p, caller.workspaceId, job.id, {
    render: async (j) => scopeImages(await generationResource(p, j), caller, p.config.publicUrl),
    keepAliveMs: sseKeepAliveMs(),
    signal: req.signal,
  });
  return new Response(stream, {
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      "x-accel-buffering": "no", // nginx and friends: do not buffer the stream
    },
  });
}, { scope: "generations:read" });
