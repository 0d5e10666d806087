"use server";

import { redirect } from "next/navigation";
import { headers } from "next/headers";
import { AppError, resetPassword, signIn } from "@lucid/core";
import { platform } from "../../lib/platform.ts";

export type ResetState = { error?: string; field?: string } | null;

/** Sets the new password (every session is revoked), then signs this browser in afresh. */
export async function resetPasswordAction(_prev: ResetState, form: FormData): Promise<ResetState> {
  try {
    const p = platform();
    const password = String(form.get("password") ?? "");
    const user = await resetPassword(p, { token: String(form.get("token") ?? ""), password });
    await signIn(p, { email: user.email, password }, { headers: await headers() });
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    const password = err.fields?.find((f) => f.field === "password");
    return password ? { field: `Password ${password.message}` } : { error: err.message };
  }
  redirect("/studio?password=reset");
}
