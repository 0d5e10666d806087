import { AppError, getJob } from "@lucid/core";
import { apiRoute } from "../../../../../../lib/http.ts";
import { platform } from "../../../../../../lib/platform.ts";

export const dynamic = "force-dynamic";

/** The newest live preview of a running generation (small WebP). */
export const GET = apiRoute<{ params: Promise<{ id: string }> }>(async (_req, caller, { params }) => {
  const p = platform();
  const job = await getJob(p, caller.workspaceId, (await params).id);
  const object = job.previewKey ? await p.images.get(job.previewKey) : null;
  if (!object) throw new AppError("not_found", "this generation has no preview yet");
  return new Response(Buffer.from(object.body), { headers: { "content-type": "image/webp", "cache-control": "private, no-store" } });
}, { scope: "generations:read" });
