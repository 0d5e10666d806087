import { NextResponse } from "next/server";
import { AppError, isTerminalStatus, listGenerations, submitGeneration, waitForJobEnd } from "@lucid/core";
import { parsePreferWait, type GenerationList } from "@lucid/contracts";
import { apiRoute, readJson } from "../../../../lib/http.ts";
import { platform } from "../../../../lib/platform.ts";
import { generationResource } from "../../../../lib/generations.ts";
import { scopeImages } from "../../../../lib/image-scope.ts";

export const dynamic = "force-dynamic";

/**
 * Submits a generation: `202` with the queued object. With `Prefer: wait=N`
 * (N ≤ 60 s) the answer waits until the job ends or N seconds pass: `200`
 * with the finished object, or `202` with it still queued/running; either way
 * with `Preference-Applied: wait=N`.
 */
export const POST = apiRoute(async (req, caller) => {
  const p = platform();
  const prefer = parsePreferWait(req.headers.get("prefer"));
  if (!prefer.ok) throw new AppError("validation_failed", `Prefer: ${prefer.message}`, [{ field: "Prefer", message: prefer.message }]);
  const body = await readJson(req);
  const job = await submitGeneration(p, caller, body);
  const location = `/api/v1/generations/${job.id}`;
  if (prefer.wait === null) {
    return NextResponse.json(scopeImages(await generationResource(p, { ...job, images: [] }), caller, p.config.publicUrl), { status: 202, headers: { location } });
  }
  // After waiting, the position counted at admission is stale: count again.
  const { queuePosition: _atAdmission, ...admitted } = job;
  const now = (await waitForJobEnd(p, caller.workspaceId, job.id, { timeoutMs: prefer.wait * 1000, signal: req.signal })) ?? { ...admitted, images: [] };
  return NextResponse.json(scopeImages(await generationResource(p, now), caller, p.config.publicUrl), {
    status: isTerminalStatus(now.status) ? 200 : 202,
    headers: { location, "preference-applied": `wait=${prefer.wait}` },
  });
}, { scope: "generations:write", idempotent: true });

/** The workspace's generations, newest first: `?limit=1..100&cursor=&status=`. */
export const GET = apiRoute(async (req, caller) => {
  const p = platform();
  const query = Object.fromEntries(new URL(req.url).searchParams);
  const page = await listGenerations(p, caller.workspaceId, query);
  const body: GenerationList = { object: "list", data: await Promise.all(page.jobs.map(async (j) => scopeImages(await generationResource(p, j), caller, p.config.publicUrl))), next_cursor: page.nextCursor };
  return NextResponse.json(body);
}, { scope: "generations:read" });
