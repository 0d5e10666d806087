"use server";

import { redirect } from "next/navigation";
import { AppError, createSession, resetPassword } from "@lucid/core";
import { platform } from "../../lib/platform.ts";
import { setSessionCookie } from "../../lib/session.ts";

export type ResetState = { error?: string; field?: string } | null;

/** Sets the new password (every session is revoked), then signs this browser in afresh. */
export async function resetPasswordAction(_prev: ResetState, form: FormData): Promise<ResetState> {
  try {
    const p = platform();
    const user = await resetPassword(p, { token: String(form.get("token") ?? ""), password: String(form.get("password") ?? "") });
    const s = await createSession(p, user.id);
    await setSessionCookie(s.token, s.expiresAt);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    const password = err.fields?.find((f) => f.field === "password");
    return password ? { field: `Password ${password.message}` } : { error: err.message };
  }
  redirect("/studio?password=reset");
}
