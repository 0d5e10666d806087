"use server";

import { redirect } from "next/navigation";
import { revalidatePath } from "next/cache";
import {
  AppError,
  actorOf,
  changeMemberRole,
  createInvite,
  createTeamWorkspace,
  leaveWorkspace,
  removeMember,
  renameWorkspace,
  revokeInvite,
  setCurrentWorkspace,
} from "@lucid/core";
import { platform } from "../../../lib/platform.ts";
import { requireViewer } from "../../../lib/session.ts";

export type WorkspaceFormState = { error?: string; ok?: string; inviteUrl?: string; inviteEmail?: string; emailed?: boolean } | null;

// Domain refusals (403 forbidden, last owner, validation) come back to the form as a message.
async function attempt(fn: () => Promise<WorkspaceFormState | void>): Promise<WorkspaceFormState> {
  try {
    const r = await fn();
    revalidatePath("/", "layout");
    return r ?? { ok: "Done." };
  } catch (err) {
    if (err instanceof AppError) return { error: err.message };
    throw err;
  }
}

/** The header's workspace switcher: only a workspace the user belongs to can become current. */
export async function switchWorkspaceAction(workspaceId: string): Promise<{ error?: string }> {
  const viewer = await requireViewer();
  try {
    await setCurrentWorkspace(platform(), { sessionId: viewer.sessionId, userId: viewer.user.id }, workspaceId);
  } catch (err) {
    if (err instanceof AppError) return { error: err.message };
    throw err;
  }
  revalidatePath("/", "layout");
  return {};
}

export async function createTeamAction(_prev: WorkspaceFormState, form: FormData): Promise<WorkspaceFormState> {
  const viewer = await requireViewer();
  const r = await attempt(async () => {
    const team = await createTeamWorkspace(platform(), viewer.user.id, { name: String(form.get("name") ?? "") });
    await setCurrentWorkspace(platform(), { sessionId: viewer.sessionId, userId: viewer.user.id }, team.id);
  });
  if (r?.error) return r;
  redirect("/settings/workspace");
}

export async function renameWorkspaceAction(_prev: WorkspaceFormState, form: FormData): Promise<WorkspaceFormState> {
  const viewer = await requireViewer();
  return attempt(() => renameWorkspace(platform(), actorOf(viewer), { name: String(form.get("name") ?? "") }));
}

export async function inviteAction(_prev: WorkspaceFormState, form: FormData): Promise<WorkspaceFormState> {
  const viewer = await requireViewer();
  return attempt(async () => {
    const invite = await createInvite(platform(), actorOf(viewer), { email: String(form.get("email") ?? ""), role: String(form.get("role") ?? "member") });
    return { inviteUrl: invite.url, inviteEmail: invite.email, emailed: invite.emailed };
  });
}

export async function revokeInviteAction(_prev: WorkspaceFormState, form: FormData): Promise<WorkspaceFormState> {
  const viewer = await requireViewer();
  return attempt(() => revokeInvite(platform(), actorOf(viewer), String(form.get("inviteId") ?? "")));
}

export async function removeMemberAction(_prev: WorkspaceFormState, form: FormData): Promise<WorkspaceFormState> {
  const viewer = await requireViewer();
  return attempt(() => removeMember(platform(), actorOf(viewer), String(form.get("userId") ?? "")));
}

export async function changeRoleAction(_prev: WorkspaceFormState, form: FormData): Promise<WorkspaceFormState> {
  const viewer = await requireViewer();
  return attempt(() => changeMemberRole(platform(), actorOf(viewer), String(form.get("userId") ?? ""), { role: String(form.get("role") ?? "") }));
}

export async function leaveWorkspaceAction(_prev: WorkspaceFormState, _form: FormData): Promise<WorkspaceFormState> {
  const viewer = await requireViewer();
  const r = await attempt(() => leaveWorkspace(platform(), actorOf(viewer)));
  if (r?.error) return r;
  redirect("/studio");
}
