import { NextResponse } from "next/server";
import { getJob } from "@lucid/core";
import { apiRoute } from "../../../../../lib/http.ts";
import { platform } from "../../../../../lib/platform.ts";
import { generationResource } from "../../../../../lib/generations.ts";
import { scopeImages } from "../../../../../lib/image-scope.ts";

export const dynamic = "force-dynamic";

export const GET = apiRoute<{ params: Promise<{ id: string }> }>(async (_req, caller, { params }) => {
  const p = platform();
  const job = await getJob(p, caller.workspaceId, (await params).id);
  return NextResponse.json(scopeImages(await generationResource(p, job), caller, p.config.publicUrl));
}, { scope: "generations:read" });
