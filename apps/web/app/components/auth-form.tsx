"use client";

import { useActionState } from "react";
import type { FormState } from "../actions.ts";

export function AuthForm(props: { action: (prev: FormState, form: FormData) => Promise<FormState>; submitLabel: string; passwordHint?: string }) {
  const [state, formAction, pending] = useActionState(props.action, null);
  return (
    <form action={formAction} noValidate>
      {state?.error && <p className="error" role="alert">{state.error}</p>}
      <label htmlFor="email">Email</label>
      <input id="email" name="email" type="email" autoComplete="email" defaultValue={state?.values?.email} required />
      {state?.fields?.email && <span className="field-error">Email {state.fields.email}</span>}
      <label htmlFor="password">Password</label>
      <input id="password" name="password" type="password" autoComplete={props.passwordHint ? "new-password" : "current-password"} required />
      {props.passwordHint && <span className="muted">{props.passwordHint}</span>}
      {state?.fields?.password && <span className="field-error">Password {state.fields.password}</span>}
      <p><button type="submit" disabled={pending}>{props.submitLabel}</button></p>
    </form>
  );
}
