"use client";

import { useActionState } from "react";
import { createEndpointAction } from "./actions.ts";

/** `eventTypes` come from the server page (the contracts package stays out of the browser bundle). */
export function CreateEndpointForm({ eventTypes }: { eventTypes: readonly string[] }) {
  const [state, action, pending] = useActionState(createEndpointAction, null);
  return (
    <form action={action} className="card" style={{ marginBottom: 16 }}>
      <label htmlFor="webhook-url">Endpoint URL</label>
      <div className="row">
        <input id="webhook-url" name="url" type="url" placeholder="https://example.com/lucid-webhooks" required />
        <button type="submit" disabled={pending} style={{ flex: 0, whiteSpace: "nowrap" }}>Add endpoint</button>
      </div>
      <fieldset style={{ border: 0, padding: 0, margin: "8px 0 0" }}>
        <legend className="muted">Events</legend>
        {eventTypes.map((type) => (
          <label key={type} style={{ display: "inline-flex", gap: 4, marginRight: 12, fontWeight: "normal" }}>
            <input type="checkbox" name="events" value={type} defaultChecked /> {type}
          </label>
        ))}
      </fieldset>
      {state?.error && <p className="error" role="alert">{state.error}</p>}
      {state?.secret && (
        <div>
          <p>Signing secret for <code>{state.url}</code>. Copy it now; only workspace owners can see it again:</p>
          <code className="key" data-testid="new-webhook-secret">{state.secret}</code>
        </div>
      )}
    </form>
  );
}
