"use client";

import { useActionState } from "react";
import { API_KEY_SCOPES } from "@lucid/contracts";
import { createScopedKeyAction } from "./actions.ts";

const SCOPE_HELP: Record<(typeof API_KEY_SCOPES)[number], string> = {
  "generations:write": "submit and cancel generations",
  "generations:read": "read generations, their events and previews",
  "images:read": "fetch image files",
};

export function CreateKeyForm() {
  const [state, action, pending] = useActionState(createScopedKeyAction, null);
  return (
    <form action={action} className="card" style={{ marginBottom: 16 }}>
      <label htmlFor="key-name">New key name</label>
      <div className="row">
        <input id="key-name" name="name" placeholder="my-app" />
        <button type="submit" disabled={pending} style={{ flex: 0 }}>Create key</button>
      </div>
      <fieldset style={{ border: "none", padding: 0, margin: "8px 0" }}>
        <legend>Scopes</legend>
        {API_KEY_SCOPES.map((s) => (
          <label key={s} style={{ display: "block", fontWeight: "normal" }}>
            <input type="checkbox" name={`scope:${s}`} defaultChecked style={{ width: "auto", marginRight: 6 }} />
            <code>{s}</code> <span className="muted">— {SCOPE_HELP[s]}</span>
          </label>
        ))}
        {state?.fields?.scopes && <p className="error">{state.fields.scopes}</p>}
      </fieldset>
      <div className="row">
        <div>
          <label htmlFor="key-expires">Expires on (optional)</label>
          <input id="key-expires" name="expiresOn" type="date" />
        </div>
        <div>
          <label htmlFor="key-cap">Monthly credit cap (optional)</label>
          <input id="key-cap" name="monthlyCreditCap" type="number" min={1} step={1} placeholder="no cap" />
        </div>
      </div>
      {state?.error && <p className="error">{state.error}</p>}
      {state?.key && (
        <div>
          <p>Copy your new key <strong>{state.name}</strong> now; it is shown only once:</p>
          <code className="key" data-testid="new-api-key">{state.key}</code>
        </div>
      )}
    </form>
  );
}
