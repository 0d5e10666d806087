"use client";

import Link from "next/link";
import { useActionState } from "react";
import { resetPasswordAction } from "./actions.ts";

export function ResetPasswordForm(props: { token: string }) {
  const [state, action, pending] = useActionState(resetPasswordAction, null);
  return (
    <form action={action} noValidate>
      {state?.error && (
        <p className="error" role="alert">
          {state.error} <Link href="/forgot-password">Get a new link</Link>
        </p>
      )}
      <input type="hidden" name="token" value={props.token} />
      <label htmlFor="password">New password</label>
      <input id="password" name="password" type="password" autoComplete="new-password" required />
      <span className="muted">At least 8 characters. You will be signed out everywhere else.</span>
      {state?.field && <span className="field-error">{state.field}</span>}
      <p><button type="submit" disabled={pending}>Set new password</button></p>
    </form>
  );
}
