import { can, listApiKeys } from "@lucid/core";
import { platform } from "../../../lib/platform.ts";
import { requireViewer } from "../../../lib/session.ts";
import { revokeKeyAction } from "../../actions.ts";
import { CreateKeyForm } from "./create-key-form.tsx";

export default async function ApiKeysPage() {
  const viewer = await requireViewer();
  const keys = await listApiKeys(platform(), viewer.workspace.id);
  return (
    <div>
      <h1>API keys</h1>
      <p className="muted">Keys act for the workspace {viewer.workspace.name}. Call <code>POST /api/v1/generations</code> with <code>Authorization: Bearer &lt;key&gt;</code>. At most 100 active keys per workspace; a key may be limited to some scopes, an expiry date and a monthly credit cap (calendar month, UTC).</p>
      {can(viewer.role, "manage_keys") ? <CreateKeyForm /> : <p className="notice" data-testid="keys-role-notice">Only owners and admins create or revoke keys; you are a {viewer.role} here.</p>}
      <table>
        <thead><tr><th>Name</th><th>Key</th><th>Scopes</th><th>Expires</th><th>Monthly cap</th><th>Created</th><th>Last used</th><th></th></tr></thead>
        <tbody>
          {keys.map((k) => (
            <tr key={k.id} data-testid="api-key-row">
              <td>{k.name}</td>
              <td><code>{k.prefix}</code></td>
              <td data-testid="api-key-scopes">{k.scopes.join(", ")}</td>
              <td>{k.expiresAt ? `${k.expiresAt.toISOString().slice(0, 10)}${k.expired ? " (expired)" : ""}` : "never"}</td>
              <td>{k.monthlyCreditCap === null ? "none" : `${k.creditsUsedThisMonth ?? 0} / ${k.monthlyCreditCap} credits`}</td>
              <td>{k.createdAt.toISOString().slice(0, 10)}</td>
              <td>{k.lastUsedAt ? k.lastUsedAt.toISOString().slice(0, 16).replace("T", " ") : "never"}</td>
              <td>
                {k.revokedAt ? (
                  <span className="muted">revoked</span>
                ) : !can(viewer.role, "manage_keys") ? null : (
                  <form action={revokeKeyAction}>
                    <input type="hidden" name="keyId" value={k.id} />
                    <button type="submit" className="secondary">Revoke</button>
                  </form>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
