import { NextResponse } from "next/server";
import { buildOpenApiDocument } from "@lucid/contracts";
import { platform } from "../../../../lib/platform.ts";

export const dynamic = "force-dynamic";

let document: ReturnType<typeof buildOpenApiDocument> | undefined;

/** The OpenAPI 3.1 document of /api/v1, generated from the contracts. Public: no auth. */
export function GET(): Response {
  document ??= buildOpenApiDocument({ serverUrl: platform().config.publicUrl });
  return NextResponse.json(document, { headers: { "access-control-allow-origin": "*", "cache-control": "public, max-age=300" } });
}
