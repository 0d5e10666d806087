import { cookies } from "next/headers";
import { redirect } from "next/navigation";
import { resolveSession, type Viewer } from "@lucid/core";
import { platform } from "./platform.ts";

export const SESSION_COOKIE = "lucid_session";

export async function setSessionCookie(token: string, expiresAt: Date) {
  const jar = await cookies();
  jar.set(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "lax",
    secure: platform().config.publicUrl.startsWith("https://"),
    path: "/",
    expires: expiresAt,
  });
}

export async function sessionToken(): Promise<string | undefined> {
  return (await cookies()).get(SESSION_COOKIE)?.value;
}

export async function currentViewer(): Promise<Viewer | null> {
  return resolveSession(platform(), await sessionToken());
}

/** For pages that need a signed-in user. */
export async function requireViewer(): Promise<Viewer> {
  const viewer = await currentViewer();
  if (!viewer) redirect("/signin");
  return viewer;
}
