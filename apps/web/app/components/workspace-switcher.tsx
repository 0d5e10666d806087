"use client";

import { useState, useTransition } from "react";
import { switchWorkspaceAction } from "../settings/workspace/actions.ts";

export interface SwitcherWorkspace {
  id: string;
  name: string;
  kind: "personal" | "team";
}

/** The header's current-workspace picker; the server checks membership before switching. */
export function WorkspaceSwitcher({ workspaces, currentId }: { workspaces: SwitcherWorkspace[]; currentId: string }) {
  const [pending, startTransition] = useTransition();
  const [error, setError] = useState<string | null>(null);
  return (
    <>
      <select
        aria-label="Workspace"
        data-testid="workspace-switcher"
        value={currentId}
        disabled={pending}
        onChange={(e) => {
          const id = e.target.value;
          startTransition(async () => {
            const r = await switchWorkspaceAction(id);
            if (r.error) return setError(r.error);
            // A full reload: pages such as the studio keep client state that belongs to the old workspace.
            window.location.reload();
          });
        }}
      >
        {workspaces.map((w) => (
          <option key={w.id} value={w.id}>{w.kind === "personal" ? `${w.name} (personal)` : w.name}</option>
        ))}
      </select>
      {error && <span className="error" role="alert">{error}</span>}
    </>
  );
}
