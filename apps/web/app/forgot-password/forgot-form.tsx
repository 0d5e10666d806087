"use client";

import { useActionState } from "react";
import { forgotPasswordAction } from "./actions.ts";

export function ForgotPasswordForm() {
  const [state, action, pending] = useActionState(forgotPasswordAction, null);
  if (state?.sent) return <p className="notice" role="status">{state.sent}</p>;
  return (
    <form action={action} noValidate>
      {state?.error && <p className="error" role="alert">{state.error}</p>}
      <label htmlFor="email">Email</label>
      <input id="email" name="email" type="email" autoComplete="email" defaultValue={state?.email} required />
      <p><button type="submit" disabled={pending}>Email me a reset link</button></p>
    </form>
  );
}
