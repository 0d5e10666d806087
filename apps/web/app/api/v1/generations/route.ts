import { NextResponse } from "next/server";
import { listJobs, submitGeneration } from "@lucid/core";
import { apiRoute, readJson } from "../../../../lib/http.ts";
import { platform } from "../../../../lib/platform.ts";
import { generationResource } from "../../../../lib/generations.ts";

export const dynamic = "force-dynamic";

export const POST = apiRoute(async (req, caller) => {
  const p = platform();
  const body = await readJson(req);
  const job = await submitGeneration(p, caller, body);
  const resource = await generationResource(p, { ...job, images: [] });
  return NextResponse.json(resource, { status: 202, headers: { location: `/api/v1/generations/${job.id}` } });
});

export const GET = apiRoute(async (_req, caller) => {
  const p = platform();
  const jobs = await listJobs(p, caller.workspaceId, 50);
  return NextResponse.json({ object: "list", data: await Promise.all(jobs.map((j) => generationResource(p, j))) });
});
