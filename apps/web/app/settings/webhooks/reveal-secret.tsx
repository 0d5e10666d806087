"use client";

import { useActionState } from "react";
import { revealSecretAction } from "./actions.ts";

/** "Show secret" for owners: an endpoint's, or without endpointId the workspace's webhook_url signing secret. */
export function RevealSecret({ endpointId }: { endpointId?: string }) {
  const [state, action, pending] = useActionState(revealSecretAction, null);
  if (state?.secret) return <code className="key" data-testid="webhook-secret">{state.secret}</code>;
  return (
    <form action={action} style={{ display: "inline" }}>
      {endpointId && <input type="hidden" name="endpointId" value={endpointId} />}
      <button type="submit" className="secondary" disabled={pending}>Show secret</button>
      {state?.error && <span className="error"> {state.error}</span>}
    </form>
  );
}
