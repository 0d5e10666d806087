import { NextResponse } from "next/server";
import { checkHealth } from "@lucid/core";
import { platform } from "../../../lib/platform.ts";

export const dynamic = "force-dynamic";

export async function GET() {
  let report;
  try {
    report = await checkHealth(platform());
  } catch (err) {
    return NextResponse.json({ ok: false, config: `error: ${(err as Error).message}` }, { status: 503 });
  }
  return NextResponse.json(report, { status: report.ok ? 200 : 503 });
}
