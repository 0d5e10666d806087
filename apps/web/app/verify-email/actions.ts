"use server";

import { sendVerificationEmail } from "@lucid/core";
import { platform } from "../../lib/platform.ts";
import { requireViewer } from "../../lib/session.ts";

export type ResendState = { message: string } | null;

export async function resendVerificationAction(_prev: ResendState): Promise<ResendState> {
  const viewer = await requireViewer();
  if (viewer.user.emailVerified) return { message: "Your email is already verified." };
  await sendVerificationEmail(platform(), viewer.user.id);
  // The same answer when the hourly cap held the email back: the inbox may still hold an earlier link.
  return { message: `We sent a new verification link to ${viewer.user.email}.` };
}
