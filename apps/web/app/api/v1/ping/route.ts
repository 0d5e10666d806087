import { NextResponse } from "next/server";
import { apiRoute } from "../../../../lib/http.ts";

export const dynamic = "force-dynamic";

/** Checks a key (or session): `{ ok, workspace_id }` with the key's rate-limit headers. The API benchmark's baseline. */
export const GET = apiRoute(async (_req, caller) => NextResponse.json({ ok: true, workspace_id: caller.workspaceId }));
