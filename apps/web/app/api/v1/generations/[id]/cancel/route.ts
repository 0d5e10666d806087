import { NextResponse } from "next/server";
import { getJob, requestCancel } from "@lucid/core";
import { apiRoute } from "../../../../../../lib/http.ts";
import { platform } from "../../../../../../lib/platform.ts";
import { generationResource } from "../../../../../../lib/generations.ts";
import { scopeImages } from "../../../../../../lib/image-scope.ts";

export const dynamic = "force-dynamic";

/** Cancels a generation: `canceled`, `cancellation_requested` (it is running), or `already_finished`. */
export const POST = apiRoute<{ params: Promise<{ id: string }> }>(async (_req, caller, { params }) => {
  const p = platform();
  const { id } = await params;
  const outcome = await requestCancel(p, caller.workspaceId, id);
  const generation = scopeImages(await generationResource(p, await getJob(p, caller.workspaceId, id)), caller, p.config.publicUrl);
  return NextResponse.json({ outcome, generation }, { status: outcome === "cancellation_requested" ? 202 : 200 });
}, { scope: "generations:write", idempotent: true });
