"use server";

import { AppError, PASSWORD_RESET_SENT, requestPasswordReset } from "@lucid/core";
import { platform } from "../../lib/platform.ts";

export type ForgotState = { sent?: string; error?: string; email?: string } | null;

export async function forgotPasswordAction(_prev: ForgotState, form: FormData): Promise<ForgotState> {
  const email = String(form.get("email") ?? "");
  try {
    await requestPasswordReset(platform(), { email });
  } catch (err) {
    // Only a malformed address is reported; whether an account exists never is.
    if (err instanceof AppError && err.code === "validation_failed") return { error: "Enter a valid email address.", email };
    throw err;
  }
  return { sent: PASSWORD_RESET_SENT };
}
