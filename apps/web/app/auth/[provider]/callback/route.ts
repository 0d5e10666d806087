import { NextResponse, type NextRequest } from "next/server";
import { AppError, completeOAuthSignIn, createSession } from "@lucid/core";
import { platform } from "../../../../lib/platform.ts";
import { setSessionCookie } from "../../../../lib/session.ts";

export const dynamic = "force-dynamic";

/** The provider sends the browser back here with a code: exchange it, find or create the user, start a session. */
export async function GET(req: NextRequest, { params }: { params: Promise<{ provider: string }> }) {
  const { provider } = await params;
  const p = platform();
  const q = req.nextUrl.searchParams;
  let target = "/studio";
  try {
    if (q.get("error")) throw new AppError("oauth_failed", "Sign-in was canceled.");
    const { userId } = await completeOAuthSignIn(p, provider, {
      code: q.get("code"),
      state: q.get("state"),
      expectedState: req.cookies.get("oauth_state")?.value,
      codeVerifier: req.cookies.get("oauth_verifier")?.value,
    });
    const s = await createSession(p, userId);
    await setSessionCookie(s.token, s.expiresAt);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    target = `/signin?error=${encodeURIComponent(err.message)}`;
  }
  const res = NextResponse.redirect(`${p.config.publicUrl}${target}`, 303);
  res.cookies.delete({ name: "oauth_state", path: `/auth/${provider}` });
  res.cookies.delete({ name: "oauth_verifier", path: `/auth/${provider}` });
  return res;
}
