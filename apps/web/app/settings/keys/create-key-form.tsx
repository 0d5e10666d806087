"use client";

import { useActionState } from "react";
import { createKeyAction } from "../../actions.ts";

export function CreateKeyForm() {
  const [state, action, pending] = useActionState(createKeyAction, null);
  return (
    <form action={action} className="card" style={{ marginBottom: 16 }}>
      <label htmlFor="key-name">New key name</label>
      <div className="row">
        <input id="key-name" name="name" placeholder="my-app" />
        <button type="submit" disabled={pending} style={{ flex: 0 }}>Create key</button>
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
