import { actorOf, can, listMembers, listPendingInvites } from "@lucid/core";
import { platform } from "../../../lib/platform.ts";
import { requireViewer } from "../../../lib/session.ts";
import {
  changeRoleAction,
  createTeamAction,
  leaveWorkspaceAction,
  removeMemberAction,
  renameWorkspaceAction,
  revokeInviteAction,
} from "./actions.ts";
import { ActionForm, InviteForm } from "./forms.tsx";

const day = (d: Date) => d.toISOString().slice(0, 10);

export default async function WorkspaceSettingsPage() {
  const viewer = await requireViewer();
  const p = platform();
  const actor = actorOf(viewer);
  const [members, invites] = await Promise.all([listMembers(p, actor), listPendingInvites(p, actor)]);
  const team = viewer.workspace.kind === "team";
  const role = viewer.role;
  return (
    <div>
      <h1 data-testid="workspace-name">{viewer.workspace.name}</h1>
      <p className="muted">
        {team ? "Team workspace" : "Personal workspace"} · your role: <strong data-testid="workspace-role">{role}</strong> · {viewer.workspace.creditBalance} credits.
        Credits, generations, images and API keys belong to the workspace.
      </p>
      {!team && <p className="notice">Your personal workspace is yours alone. Create a team workspace to share credits and work with others.</p>}

      {team && can(role, "rename") && (
        <ActionForm action={renameWorkspaceAction} className="card">
          <label htmlFor="workspace-rename">Workspace name</label>
          <div className="row">
            <input id="workspace-rename" name="name" defaultValue={viewer.workspace.name} />
            <button type="submit" style={{ flex: 0 }}>Rename</button>
          </div>
        </ActionForm>
      )}

      <h2>Members</h2>
      <table>
        <thead><tr><th>Email</th><th>Role</th><th></th></tr></thead>
        <tbody>
          {members.map((m) => (
            <tr key={m.userId} data-testid="member-row">
              <td>{m.email}{m.userId === viewer.user.id && <span className="muted"> (you)</span>}</td>
              <td>
                {team && can(role, "change_role") ? (
                  <ActionForm action={changeRoleAction} className="row">
                    <input type="hidden" name="userId" value={m.userId} />
                    <select name="role" defaultValue={m.role} aria-label={`Role of ${m.email}`}>
                      <option value="owner">owner</option>
                      <option value="admin">admin</option>
                      <option value="member">member</option>
                    </select>
                    <button type="submit" className="secondary" style={{ flex: 0 }}>Change</button>
                  </ActionForm>
                ) : (
                  m.role
                )}
              </td>
              <td>
                {team && m.userId !== viewer.user.id && can(role, "remove_member") && (
                  <ActionForm action={removeMemberAction}>
                    <input type="hidden" name="userId" value={m.userId} />
                    <button type="submit" className="secondary" aria-label={`Remove ${m.email}`}>Remove</button>
                  </ActionForm>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      {team && can(role, "invite") && <InviteForm />}

      {team && (
        <>
          <h2>Pending invites</h2>
          {invites.length === 0 && <p className="muted">No pending invites.</p>}
          {invites.length > 0 && (
            <table>
              <thead><tr><th>Email</th><th>Role</th><th>Expires</th><th></th></tr></thead>
              <tbody>
                {invites.map((i) => (
                  <tr key={i.id} data-testid="invite-row">
                    <td>{i.email}</td>
                    <td>{i.role}</td>
                    <td>{day(i.expiresAt)}</td>
                    <td>
                      {can(role, "invite") && (
                        <ActionForm action={revokeInviteAction}>
                          <input type="hidden" name="inviteId" value={i.id} />
                          <button type="submit" className="secondary">Revoke</button>
                        </ActionForm>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <ActionForm action={leaveWorkspaceAction}>
            <p><button type="submit" className="secondary">Leave this workspace</button></p>
          </ActionForm>
        </>
      )}

      <h2>New team workspace</h2>
      <ActionForm action={createTeamAction} className="card">
        <label htmlFor="team-name">Team name</label>
        <div className="row">
          <input id="team-name" name="name" placeholder="Acme design" />
          <button type="submit" style={{ flex: 0 }}>Create team</button>
        </div>
        <p className="muted">A new team starts with 0 credits; you are its owner.</p>
      </ActionForm>
    </div>
  );
}
