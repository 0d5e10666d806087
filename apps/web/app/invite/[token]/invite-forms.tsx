"use client";

import { useActionState } from "react";
import { acceptInviteAction, signInAndAcceptAction, signUpAndAcceptAction } from "./actions.ts";

export function AcceptInviteForm({ token }: { token: string }) {
  const [state, action, pending] = useActionState(acceptInviteAction, null);
  return (
    <form action={action}>
      <input type="hidden" name="token" value={token} />
      {state?.error && <p className="error" role="alert">{state.error}</p>}
      <button type="submit" disabled={pending}>Accept invite</button>
    </form>
  );
}

/** Sign up (or in) and accept in one step; the email is the invited address. */
export function JoinForm({ token, email, mode }: { token: string; email: string; mode: "signup" | "signin" }) {
  const [state, action, pending] = useActionState(mode === "signup" ? signUpAndAcceptAction : signInAndAcceptAction, null);
  const id = (f: string) => `${mode}-${f}`;
  return (
    <form action={action} className="card" noValidate>
      <h3>{mode === "signup" ? "New to Lucid? Create an account and join" : "Already have an account? Sign in and join"}</h3>
      <input type="hidden" name="token" value={token} />
      {state?.error && <p className="error" role="alert">{state.error}</p>}
      <label htmlFor={id("email")}>Email</label>
      <input id={id("email")} name="email" type="email" defaultValue={state?.values?.email ?? email} autoComplete="email" />
      <label htmlFor={id("password")}>Password</label>
      <input id={id("password")} name="password" type="password" autoComplete={mode === "signup" ? "new-password" : "current-password"} />
      <p><button type="submit" disabled={pending}>{mode === "signup" ? "Sign up and join" : "Sign in and join"}</button></p>
    </form>
  );
}
