// Team workspaces: creating them, membership and roles, invitations, and the
// session's current workspace. Every function that acts for someone reads
// their role from the database (not from a cached Viewer), so a role change or
// removal takes effect on the next request.
import { createHash, randomBytes } from "node:crypto";
import {
  ChangeRoleRequest,
  CreateInviteRequest,
  CreateTeamRequest,
  RenameWorkspaceRequest,
  describeFieldErrors,
  fieldErrors,
} from "@lucid/contracts";
import type { Role } from "@lucid/db";
import { AppError, notFound } from "./errors.ts";
import { isUuid } from "./jobs.ts";
import { sendMail } from "./mail.ts";
import type { Platform } from "./platform.ts";

export const INVITE_DAYS = 7;

/** Who is acting, in which workspace (a Viewer's user and current workspace). */
export interface WorkspaceActor {
  userId: string;
  workspaceId: string;
}

/** Maps a resolved session to the actor the functions below take. */
export const actorOf = (viewer: { user: { id: string }; workspace: { id: string } }): WorkspaceActor => ({
  userId: viewer.user.id,
  workspaceId: viewer.workspace.id,
});

/**
 * Who may do what, in one table. Members generate, publish and see the
 * workspace's work; money and credentials (keys, purchases) and membership
 * are for owners and admins; roles, renaming and the workspace itself are the
 * owners'.
 */
export const PERMISSIONS = {
  generate: ["owner", "admin", "member"],
  publish: ["owner", "admin", "member"],
  view_keys: ["owner", "admin", "member"],
  manage_keys: ["owner", "admin"],
  buy_credits: ["owner", "admin"],
  invite: ["owner", "admin"],
  remove_member: ["owner", "admin"],
  change_role: ["owner"],
  rename: ["owner"],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof PERMISSIONS;

const PERMISSION_TEXT: Record<Permission, string> = {
  generate: "generate images",
  publish: "publish images",
  view_keys: "see API keys",
  manage_keys: "create or revoke API keys",
  buy_credits: "buy credits",
  invite: "invite people",
  remove_member: "remove members",
  change_role: "change roles",
  rename: "rename the workspace",
};

export const can = (role: Role, permission: Permission): boolean => (PERMISSIONS[permission] as readonly Role[]).includes(role);

function parse<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: import("zod").ZodError } }, input: unknown): T {
  const r = schema.safeParse(input);
  if (!r.success) {
    const fields = fieldErrors(r.error);
    throw new AppError("validation_failed", describeFieldErrors(fields), fields);
  }
  return r.data;
}

type Db = Pick<Platform["db"], "membership">;

/** The actor's role in the workspace; a non-member gets "not found", as if the workspace did not exist. */
export async function memberRole(db: Db, actor: WorkspaceActor): Promise<Role> {
  const m = await db.membership.findUnique({ where: { workspaceId_userId: { workspaceId: actor.workspaceId, userId: actor.userId } } });
  if (!m) throw notFound("workspace");
  return m.role;
}

/** Throws 403 `forbidden` unless the actor's role allows the permission. Returns the role. */
export async function requirePermission(p: { db: Db }, actor: WorkspaceActor, permission: Permission): Promise<Role> {
  const role = await memberRole(p.db, actor);
  if (!can(role, permission)) {
    throw new AppError("forbidden", `Your role (${role}) cannot ${PERMISSION_TEXT[permission]} in this workspace. Ask an owner${PERMISSIONS[permission].length > 1 ? " or admin" : ""}.`);
  }
  return role;
}

export interface MemberWorkspace {
  id: string;
  name: string;
  kind: "personal" | "team";
  role: Role;
}

/** The user's workspaces: personal first, then teams by when they joined. */
export async function listUserWorkspaces(p: Platform, userId: string): Promise<MemberWorkspace[]> {
  const ms = await p.db.membership.findMany({ where: { userId }, include: { workspace: true }, orderBy: { createdAt: "asc" } });
  return ms
    .map((m) => ({ id: m.workspaceId, name: m.workspace.name, kind: m.workspace.kind, role: m.role }))
    .sort((a, b) => (a.kind === b.kind ? 0 : a.kind === "personal" ? -1 : 1));
}

/** Creates a team workspace (no credits) with the creator as its owner. */
export async function createTeamWorkspace(p: Platform, userId: string, input: unknown): Promise<{ id: string; name: string }> {
  const { name } = parse(CreateTeamRequest, input);
  return p.db.$transaction(async (tx) => {
    const w = await tx.workspace.create({ data: { name, kind: "team" } });
    await tx.membership.create({ data: { workspaceId: w.id, userId, role: "owner" } });
    return { id: w.id, name: w.name };
  });
}

export async function renameWorkspace(p: Platform, actor: WorkspaceActor, input: unknown): Promise<void> {
  const { name } = parse(RenameWorkspaceRequest, input);
  await requirePermission(p, actor, "rename");
  await p.db.workspace.update({ where: { id: actor.workspaceId }, data: { name } });
}

/** Points the session at one of the user's workspaces; any other id is "not found". */
export async function setCurrentWorkspace(p: Platform, session: { sessionId: string; userId: string }, workspaceId: string): Promise<void> {
  if (!isUuid(workspaceId)) throw notFound("workspace");
  await memberRole(p.db, { userId: session.userId, workspaceId });
  await p.db.session.update({ where: { id: session.sessionId }, data: { currentWorkspaceId: workspaceId } });
}

export async function listMembers(p: Platform, actor: WorkspaceActor) {
  await memberRole(p.db, actor);
  const ms = await p.db.membership.findMany({
    where: { workspaceId: actor.workspaceId },
    include: { user: { select: { email: true } } },
    orderBy: { createdAt: "asc" },
  });
  return ms.map((m) => ({ userId: m.userId, email: m.user.email, role: m.role, joinedAt: m.createdAt }));
}

// Membership changes lock the workspace row first, so two concurrent changes
// cannot both see "another owner remains" and leave the workspace ownerless.
type Tx = Parameters<Parameters<Platform["db"]["$transaction"]>[0]>[0];
async function lockWorkspace(tx: Tx, workspaceId: string): Promise<{ kind: "personal" | "team" }> {
  const rows = await tx.$queryRaw<Array<{ kind: "personal" | "team" }>>`SELECT kind::text AS kind FROM "Workspace" WHERE id = ${workspaceId}::uuid FOR UPDATE`;
  if (!rows[0]) throw notFound("workspace");
  return rows[0];
}
async function ownerCount(tx: Tx, workspaceId: string): Promise<number> {
  return tx.membership.count({ where: { workspaceId, role: "owner" } });
}
const lastOwner = () => new AppError("last_owner", "A workspace needs an owner: make someone else an owner first.");

/** Owners change anyone's role; the last owner cannot be demoted. */
export async function changeMemberRole(p: Platform, actor: WorkspaceActor, memberUserId: string, input: unknown): Promise<void> {
  const { role } = parse(ChangeRoleRequest, input);
  if (!isUuid(memberUserId)) throw notFound("member");
  await p.db.$transaction(async (tx) => {
    const ws = await lockWorkspace(tx, actor.workspaceId);
    await requirePermission({ db: tx }, actor, "change_role");
    if (ws.kind === "personal") throw new AppError("forbidden", "A personal workspace has one owner; create a team to share work.");
    const target = await tx.membership.findUnique({ where: { workspaceId_userId: { workspaceId: actor.workspaceId, userId: memberUserId } } });
    if (!target) throw notFound("member");
    if (target.role === "owner" && role !== "owner" && (await ownerCount(tx, actor.workspaceId)) <= 1) throw lastOwner();
    await tx.membership.update({ where: { workspaceId_userId: { workspaceId: actor.workspaceId, userId: memberUserId } }, data: { role } });
  });
}

/**
 * Owners and admins remove members; only owners remove owners (an admin
 * removing an owner would be a promotion of themselves in effect). Removing
 * yourself is leaving: see leaveWorkspace.
 */
export async function removeMember(p: Platform, actor: WorkspaceActor, memberUserId: string): Promise<void> {
  if (!isUuid(memberUserId)) throw notFound("member");
  if (memberUserId === actor.userId) return leaveWorkspace(p, actor);
  await p.db.$transaction(async (tx) => {
    await lockWorkspace(tx, actor.workspaceId);
    const role = await requirePermission({ db: tx }, actor, "remove_member");
    const target = await tx.membership.findUnique({ where: { workspaceId_userId: { workspaceId: actor.workspaceId, userId: memberUserId } } });
    if (!target) throw notFound("member");
    if (target.role === "owner" && role !== "owner") throw new AppError("forbidden", "Only an owner can remove an owner.");
    if (target.role === "owner" && (await ownerCount(tx, actor.workspaceId)) <= 1) throw lastOwner();
    await tx.membership.delete({ where: { workspaceId_userId: { workspaceId: actor.workspaceId, userId: memberUserId } } });
  });
}

/** Leaves a team workspace. The last owner cannot leave, and nobody leaves their personal workspace. */
export async function leaveWorkspace(p: Platform, actor: WorkspaceActor): Promise<void> {
  await p.db.$transaction(async (tx) => {
    const ws = await lockWorkspace(tx, actor.workspaceId);
    const role = await memberRole(tx, actor);
    if (ws.kind === "personal") throw new AppError("forbidden", "You cannot leave your personal workspace.");
    if (role === "owner" && (await ownerCount(tx, actor.workspaceId)) <= 1) throw lastOwner();
    await tx.membership.delete({ where: { workspaceId_userId: { workspaceId: actor.workspaceId, userId: actor.userId } } });
  });
}

// --- Invitations ---------------------------------------------------------

const inviteTokenHash = (token: string) => createHash("sha256").update(token).digest("hex");

export interface CreatedInvite {
  id: string;
  email: string;
  role: Role;
  expiresAt: Date;
  /** The single-use link; only its hash is stored, so this is the one chance to see it. */
  url: string;
  /** Whether the link went out by email (SMTP configured and accepted it); otherwise the inviter passes it on. */
  emailed: boolean;
}

/**
 * Invites an email address into a team workspace with a role. Owners and
 * admins invite; only owners can invite owners. The link is valid for 7 days
 * and works once.
 */
export async function createInvite(p: Platform, actor: WorkspaceActor, input: unknown, opts: { now?: Date } = {}): Promise<CreatedInvite> {
  const { email, role } = parse(CreateInviteRequest, input);
  const actorRole = await requirePermission(p, actor, "invite");
  if (role === "owner" && actorRole !== "owner") throw new AppError("forbidden", "Only an owner can invite an owner.");
  const ws = await p.db.workspace.findUniqueOrThrow({ where: { id: actor.workspaceId } });
  if (ws.kind === "personal") throw new AppError("forbidden", "Personal workspaces cannot be shared: create a team workspace and invite people there.");
  const existing = await p.db.membership.findFirst({ where: { workspaceId: actor.workspaceId, user: { email } } });
  if (existing) throw new AppError("validation_failed", `${email} is already a member.`, [{ field: "email", message: "is already a member" }]);
  const token = randomBytes(32).toString("base64url");
  const now = opts.now ?? new Date();
  const invite = await p.db.workspaceInvite.create({
    data: {
      workspaceId: actor.workspaceId,
      email,
      role,
      tokenHash: inviteTokenHash(token),
      invitedById: actor.userId,
      expiresAt: new Date(now.getTime() + INVITE_DAYS * 86400_000),
    },
  });
  const url = `${p.config.publicUrl}/invite/${token}`;
  const inviter = await p.db.user.findUnique({ where: { id: actor.userId }, select: { email: true } });
  let emailed = false;
  try {
    await sendMail(p, {
      to: email,
      subject: `Join ${ws.name} on Lucid`,
      text: `${inviter?.email ?? "Someone"} invited you to the team workspace "${ws.name}" on Lucid as ${role}.\n\nAccept the invitation (the link works once, for ${email}, for ${INVITE_DAYS} days):\n\n${url}\n`,
    });
    emailed = Boolean(p.config.mail?.smtp);
  } catch (err) {
    // The invite stands: the inviter is shown the link to pass on.
    console.error(`[invite] could not email ${email}: ${(err as Error).message}`);
  }
  return { id: invite.id, email, role, expiresAt: invite.expiresAt, url, emailed };
}

/** Invites not yet accepted, revoked or expired (members of the workspace may look). */
export async function listPendingInvites(p: Platform, actor: WorkspaceActor) {
  await memberRole(p.db, actor);
  return p.db.workspaceInvite.findMany({
    where: { workspaceId: actor.workspaceId, acceptedAt: null, revokedAt: null, expiresAt: { gt: new Date() } },
    orderBy: { createdAt: "desc" },
    select: { id: true, email: true, role: true, expiresAt: true, createdAt: true },
  });
}

export async function revokeInvite(p: Platform, actor: WorkspaceActor, inviteId: string): Promise<void> {
  if (!isUuid(inviteId)) throw notFound("invite");
  await requirePermission(p, actor, "invite");
  const r = await p.db.workspaceInvite.updateMany({
    where: { id: inviteId, workspaceId: actor.workspaceId, acceptedAt: null, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  if (r.count === 0 && !(await p.db.workspaceInvite.findFirst({ where: { id: inviteId, workspaceId: actor.workspaceId } }))) throw notFound("invite");
}

export type InviteState = "pending" | "expired" | "accepted" | "revoked";

export interface InviteView {
  workspaceName: string;
  email: string;
  role: Role;
  expiresAt: Date;
  state: InviteState;
}

const inviteState = (i: { acceptedAt: Date | null; revokedAt: Date | null; expiresAt: Date }, now: Date): InviteState =>
  i.acceptedAt ? "accepted" : i.revokedAt ? "revoked" : i.expiresAt <= now ? "expired" : "pending";

/** What the invite link shows. The token is the capability: an unknown token is "not found". */
export async function getInvite(p: Platform, token: string, opts: { now?: Date } = {}): Promise<InviteView> {
  if (!token || token.length > 200) throw notFound("invite");
  const i = await p.db.workspaceInvite.findUnique({ where: { tokenHash: inviteTokenHash(token) }, include: { workspace: true } });
  if (!i) throw notFound("invite");
  return { workspaceName: i.workspace.name, email: i.email, role: i.role, expiresAt: i.expiresAt, state: inviteState(i, opts.now ?? new Date()) };
}

/**
 * Accepts an invite for a signed-in user whose email it names. Single use:
 * the invite is marked accepted by a conditional update in the same
 * transaction that adds the membership. Someone already a member keeps their
 * role. Returns the workspace to switch to.
 */
export async function acceptInvite(p: Platform, user: { id: string; email: string }, token: string, opts: { now?: Date } = {}): Promise<{ workspaceId: string; role: Role }> {
  if (!token || token.length > 200) throw notFound("invite");
  const now = opts.now ?? new Date();
  return p.db.$transaction(async (tx) => {
    const i = await tx.workspaceInvite.findUnique({ where: { tokenHash: inviteTokenHash(token) } });
    if (!i) throw notFound("invite");
    if (i.email !== user.email.toLowerCase()) {
      throw new AppError("forbidden", `This invite is for ${i.email}. Sign in with that address to accept it.`);
    }
    const state = inviteState(i, now);
    if (state === "accepted") throw new AppError("invite_used", "This invite has already been used.");
    if (state === "revoked") throw new AppError("invite_expired", "This invite was revoked. Ask for a new one.");
    if (state === "expired") throw new AppError("invite_expired", "This invite has expired. Ask for a new one.");
    const claimed = await tx.workspaceInvite.updateMany({
      where: { id: i.id, acceptedAt: null, revokedAt: null },
      data: { acceptedAt: now, acceptedById: user.id },
    });
    if (claimed.count !== 1) throw new AppError("invite_used", "This invite has already been used.");
    const existing = await tx.membership.findUnique({ where: { workspaceId_userId: { workspaceId: i.workspaceId, userId: user.id } } });
    if (existing) return { workspaceId: i.workspaceId, role: existing.role };
    await tx.membership.create({ data: { workspaceId: i.workspaceId, userId: user.id, role: i.role } });
    return { workspaceId: i.workspaceId, role: i.role };
  });
}
