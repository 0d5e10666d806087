import { NextResponse } from "next/server";
import { AppError, startOAuthSignIn } from "@lucid/core";
import { platform } from "../../../lib/platform.ts";

export const dynamic = "force-dynamic";

/** Sends the browser to the provider; better-auth's state cookie goes with the redirect. */
export async function GET(req: Request, { params }: { params: Promise<{ provider: string }> }) {
  const { provider } = await params;
  const p = platform();
  let start;
  try {
    start = await startOAuthSignIn(p, provider, req.headers);
  } catch (err) {
    if (err instanceof AppError) return NextResponse.redirect(`${p.config.publicUrl}/signin?error=unavailable`, 303);
    throw err;
  }
  const res = NextResponse.redirect(start.url, 302);
  for (const cookie of start.headers.getSetCookie()) res.headers.append("set-cookie", cookie);
  return res;
}
