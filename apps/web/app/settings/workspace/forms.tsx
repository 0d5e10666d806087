"use client";

import { useActionState, type ReactNode } from "react";
import { inviteAction, type WorkspaceFormState } from "./actions.ts";

/** A form bound to a workspace server action; shows the refusal message (e.g. a role that may not do this). */
export function ActionForm(props: {
  action: (prev: WorkspaceFormState, form: FormData) => Promise<WorkspaceFormState>;
  children: ReactNode;
  className?: string;
  testId?: string;
}) {
  const [state, formAction, pending] = useActionState(props.action, null);
  return (
    <form action={formAction} className={props.className} data-testid={props.testId}>
      <fieldset disabled={pending} style={{ border: 0, padding: 0, margin: 0 }}>{props.children}</fieldset>
      {state?.error && <p className="error" role="alert">{state.error}</p>}
    </form>
  );
}

export function InviteForm() {
  const [state, formAction, pending] = useActionState(inviteAction, null);
  return (
    <form action={formAction} className="card" style={{ marginBottom: 16 }}>
      <h3>Invite someone</h3>
      <div className="row">
        <div>
          <label htmlFor="invite-email">Email</label>
          <input id="invite-email" name="email" type="email" placeholder="teammate@example.com" />
        </div>
        <div style={{ flex: 0 }}>
          <label htmlFor="invite-role">Role</label>
          <select id="invite-role" name="role" defaultValue="member">
            <option value="member">member</option>
            <option value="admin">admin</option>
            <option value="owner">owner</option>
          </select>
        </div>
      </div>
      <p><button type="submit" disabled={pending}>Create invite link</button></p>
      {state?.error && <p className="error" role="alert">{state.error}</p>}
      {state?.inviteUrl && (
        <div>
          <p data-testid="invite-sent">
            {state.emailed ? (
              <>We emailed the invite to <strong>{state.inviteEmail}</strong>. You can also copy the link and send it yourself.</>
            ) : (
              <>Email is not configured on this server, so copy this link for <strong>{state.inviteEmail}</strong> and send it yourself.</>
            )}{" "}
            It works once, only for that address, and expires in 7 days; it is shown only now.
          </p>
          <code className="key" data-testid="invite-link">{state.inviteUrl}</code>
        </div>
      )}
    </form>
  );
}
