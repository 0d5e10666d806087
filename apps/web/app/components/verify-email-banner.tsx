"use client";

import { useActionState } from "react";
import { resendVerificationAction } from "../verify-email/actions.ts";

/** Shown to signed-in users whose email is not verified yet. */
export function VerifyEmailBanner(props: { email: string; required: boolean }) {
  const [state, resend, pending] = useActionState(resendVerificationAction, null);
  return (
    <div className="notice" role="region" aria-label="Email verification" data-testid="verify-banner">
      Please verify <strong>{props.email}</strong>: open the link we emailed you.
      {props.required && " Buying credits and creating API keys need a verified email."}{" "}
      <form action={resend} style={{ display: "inline" }}>
        <button type="submit" className="link" disabled={pending}>Resend the email</button>
      </form>
      {state && <span role="status"> {state.message}</span>}
    </div>
  );
}
