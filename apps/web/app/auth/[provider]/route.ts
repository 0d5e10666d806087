import { NextResponse } from "next/server";
import { AppError, startOAuthSignIn } from "@lucid/core";
import { platform } from "../../../lib/platform.ts";

export const dynamic = "force-dynamic";

/** Sends the browser to the provider; state and the PKCE verifier wait in short-lived httpOnly cookies. */
export async function GET(_req: Request, { params }: { params: Promise<{ provider: string }> }) {
  const { provider } = await params;
  const p = platform();
  let start;
  try {
    start = startOAuthSignIn(p, provider);
  } catch (err) {
    if (err instanceof AppError) return NextResponse.redirect(`${p.config.publicUrl}/signin?error=${encodeURIComponent(err.message)}`, 303);
    throw err;
  }
  const res = NextResponse.redirect(start.url, 302);
  const cookie = { httpOnly: true, sameSite: "lax" as const, secure: p.config.publicUrl.startsWith("https://"), path: `/auth/${provider}`, maxAge: 600 };
  res.cookies.set("oauth_state", start.state, cookie);
  res.cookies.set("oauth_verifier", start.codeVerifier, cookie);
  return res;
}
