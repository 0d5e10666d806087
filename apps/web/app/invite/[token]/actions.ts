"use server";

import { redirect } from "next/navigation";
import { revalidatePath } from "next/cache";
import { AppError, acceptInvite, resolveSession, sendVerificationEmail, setCurrentWorkspace, signIn, signInProtected, signUp, type Viewer } from "@lucid/core";
import { clientIp } from "../../../lib/client-ip.ts";
import { platform } from "../../../lib/platform.ts";
import { headers } from "next/headers";
import { currentViewer } from "../../../lib/session.ts";

export type InviteFormState = { error?: string; values?: Record<string, string> } | null;

// Accepting makes the team the session's current workspace: joining is why they came.
async function acceptAndSwitch(viewer: Pick<Viewer, "sessionId" | "user">, token: string) {
  const p = platform();
  const { workspaceId } = await acceptInvite(p, viewer.user, token);
  await setCurrentWorkspace(p, { sessionId: viewer.sessionId, userId: viewer.user.id }, workspaceId);
  // The header (root layout) shows the current workspace: re-render it.
  revalidatePath("/", "layout");
}

export async function acceptInviteAction(_prev: InviteFormState, form: FormData): Promise<InviteFormState> {
  const viewer = await currentViewer();
  if (!viewer) return { error: "Sign in first." };
  try {
    await acceptAndSwitch(viewer, String(form.get("token") ?? ""));
  } catch (err) {
    if (err instanceof AppError) return { error: err.message };
    throw err;
  }
  redirect("/studio");
}

/** New here: create the account, sign in, and accept, in one step. */
export async function signUpAndAcceptAction(_prev: InviteFormState, form: FormData): Promise<InviteFormState> {
  const input = { email: String(form.get("email") ?? ""), password: String(form.get("password") ?? "") };
  return signInThenAccept(input, String(form.get("token") ?? ""), "signup");
}

export async function signInAndAcceptAction(_prev: InviteFormState, form: FormData): Promise<InviteFormState> {
  const input = { email: String(form.get("email") ?? ""), password: String(form.get("password") ?? "") };
  return signInThenAccept(input, String(form.get("token") ?? ""), "signin");
}

async function signInThenAccept(input: { email: string; password: string }, token: string, how: "signup" | "signin"): Promise<InviteFormState> {
  const p = platform();
  try {
    // The same paths as /signup and /signin: brute-force limits, and a verification email for new accounts.
    const requestHeaders = await headers();
    if (how === "signup") {
      const user = await signUp(p, input);
      await sendVerificationEmail(p, user.id).catch((e) => console.error(`verification email to ${user.email} failed: ${(e as Error).message}`));
    }
    const session = how === "signup" ? await signIn(p, input, { headers: requestHeaders }) : await signInProtected(p, input, { ip: await clientIp(), headers: requestHeaders });
    const viewer = await resolveSession(p, new Headers({ cookie: session.cookie }));
    if (!viewer) throw new AppError("internal", "session was not created");
    await acceptAndSwitch(viewer, token);
  } catch (err) {
    if (err instanceof AppError) return { error: err.message, values: { email: input.email } };
    throw err;
  }
  redirect("/studio");
}
