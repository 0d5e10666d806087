"use server";

import { redirect } from "next/navigation";
import { revalidatePath } from "next/cache";
import {
  AppError,
  publishImage,
  revokeApiKey,
  requireVerifiedEmail,
  sendVerificationEmail,
  signIn,
  signInProtected,
  signOut,
  signUp,
  startCheckout,
  unpublishImage,
  actorOf,
  requirePermission,
} from "@lucid/core";
import { platform } from "../lib/platform.ts";
import { clientIp } from "../lib/client-ip.ts";
import { requireViewer } from "../lib/session.ts";
import { headers } from "next/headers";

export type FormState = { error?: string; fields?: Record<string, string>; values?: Record<string, string> } | null;

function toFormState(err: unknown, values: Record<string, string>): FormState {
  if (err instanceof AppError) {
    return { error: err.message, fields: Object.fromEntries((err.fields ?? []).map((f) => [f.field, f.message])), values };
  }
  throw err;
}

export async function signUpAction(_prev: FormState, form: FormData): Promise<FormState> {
  const input = { email: String(form.get("email") ?? ""), password: String(form.get("password") ?? "") };
  try {
    const p = platform();
    const user = await signUp(p, input);
    // better-auth starts the session; its nextCookies plugin sets the cookie.
    await signIn(p, input, { headers: await headers() });
    // A mail outage must not fail the sign-up: the banner offers to resend.
    await sendVerificationEmail(p, user.id).catch((e) => console.error(`verification email to ${user.email} failed: ${(e as Error).message}`));
  } catch (err) {
    return toFormState(err, { email: input.email });
  }
  redirect("/studio");
}

export async function signInAction(_prev: FormState, form: FormData): Promise<FormState> {
  const input = { email: String(form.get("email") ?? ""), password: String(form.get("password") ?? "") };
  try {
    const p = platform();
    await signInProtected(p, input, { ip: await clientIp(), headers: await headers() });
  } catch (err) {
    return toFormState(err, { email: input.email });
  }
  redirect("/studio");
}

export async function signOutAction(): Promise<void> {
  await signOut(platform(), await headers());
  redirect("/");
}

/** Publishes or unpublishes one of the workspace's images; answers the visibility it now has. */
export async function setImagePublicAction(imageId: string, makePublic: boolean): Promise<boolean> {
  const viewer = await requireViewer();
  if (makePublic) await publishImage(platform(), viewer.workspace.id, imageId);
  else await unpublishImage(platform(), viewer.workspace.id, imageId);
  revalidatePath("/gallery");
  return makePublic;
}

export async function revokeKeyAction(form: FormData): Promise<void> {
  const viewer = await requireViewer();
  await requirePermission(platform(), actorOf(viewer), "manage_keys");
  await revokeApiKey(platform(), viewer.workspace.id, String(form.get("keyId") ?? ""));
  revalidatePath("/settings/keys");
}

export async function checkoutAction(form: FormData): Promise<void> {
  const viewer = await requireViewer();
  await requirePermission(platform(), actorOf(viewer), "buy_credits");
  await requireVerifiedEmail(platform(), viewer.user.id);
  const { url } = await startCheckout(platform(), { workspaceId: viewer.workspace.id, email: viewer.user.email }, { pack: String(form.get("pack") ?? "") });
  redirect(url);
}
