import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { resolveSession, type Viewer } from "@lucid/core";
import { platform } from "./platform.ts";

/** The signed-in viewer, from better-auth's session cookie on this request. */
export async function currentViewer(): Promise<Viewer | null> {
  return resolveSession(platform(), await headers());
}

/** For pages that need a signed-in user. */
export async function requireViewer(): Promise<Viewer> {
  const viewer = await currentViewer();
  if (!viewer) redirect("/signin");
  return viewer;
}
