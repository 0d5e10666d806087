import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  AppError,
  INVITE_DAYS,
  acceptInvite,
  changeMemberRole,
  createInvite,
  createTeamWorkspace,
  getInvite,
  grantCredits,
  leaveWorkspace,
  listMembers,
  listPendingInvites,
  listUserWorkspaces,
  removeMember,
  renameWorkspace,
  requirePermission,
  resolveSession,
  revokeInvite,
  setCurrentWorkspace,
  signIn,
  signUp,
  submitGeneration,
  type Platform,
} from "@lucid/core";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";

const is = (code: string) => (e: unknown) => e instanceof AppError && e.code === code;
const tokenOf = (url: string) => url.slice(url.lastIndexOf("/") + 1);
let n = 0;
const user = (p: Platform, tag: string) => signUp(p, { email: `${tag}-${n++}@example.com`, password: "password123" });

describe("team workspaces, roles and invites", () => {
  let t: TestPlatform;
  before(async () => {
    t = await startTestPlatform();
  });
  after(async () => t?.stop());

  it("a new team has 0 credits and its creator as owner; it shows up beside the personal workspace", async () => {
    const p = t.platform;
    const ada = await user(p, "ada");
    const team = await createTeamWorkspace(p, ada.id, { name: "  Design  " });
    const ws = await p.db.workspace.findUniqueOrThrow({ where: { id: team.id } });
    assert.deepEqual([ws.name, ws.kind, ws.creditBalance], ["Design", "team", 0]);
    const mine = await listUserWorkspaces(p, ada.id);
    assert.deepEqual(mine.map((w) => [w.kind, w.role]), [["personal", "owner"], ["team", "owner"]]);
    await assert.rejects(createTeamWorkspace(p, ada.id, { name: " " }), is("validation_failed"));
  });

  it("invite life cycle: the link works once, only for the invited email, and not after 7 days or a revoke", async () => {
    const p = t.platform;
    const owner = await user(p, "owner");
    const team = await createTeamWorkspace(p, owner.id, { name: "Studio" });
    const actor = { userId: owner.id, workspaceId: team.id };
    const bob = await user(p, "bob");
    const eve = await user(p, "eve");

    const inv = await createInvite(p, actor, { email: bob.email.toUpperCase(), role: "admin" });
    assert.equal(inv.email, bob.email, "emails are normalised");
    assert.equal(inv.emailed, false, "no SMTP here: the inviter is told to pass the link on");
    assert.match(inv.url, new RegExp(`^${t.config.publicUrl}/invite/[A-Za-z0-9_-]{43}$`));
    const stored = await p.db.workspaceInvite.findUniqueOrThrow({ where: { id: inv.id } });
    assert.ok(!stored.tokenHash.includes(tokenOf(inv.url)), "only a hash of the token is stored");
    assert.equal(inv.expiresAt.getTime() - stored.createdAt.getTime() <= INVITE_DAYS * 86400_000, true);
    assert.deepEqual(await getInvite(p, tokenOf(inv.url)), { workspaceName: "Studio", email: bob.email, role: "admin", expiresAt: inv.expiresAt, state: "pending" });
    assert.equal((await listPendingInvites(p, actor)).length, 1);

    await assert.rejects(acceptInvite(p, eve, tokenOf(inv.url)), is("forbidden"), "someone else's email");
    await assert.rejects(acceptInvite(p, bob, tokenOf(inv.url) + "x"), is("not_found"), "a forged token");
    await assert.rejects(getInvite(p, "nope"), is("not_found"));
    assert.deepEqual(await acceptInvite(p, bob, tokenOf(inv.url)), { workspaceId: team.id, role: "admin" });
    await assert.rejects(acceptInvite(p, bob, tokenOf(inv.url)), is("invite_used"), "single use");
    assert.equal((await getInvite(p, tokenOf(inv.url))).state, "accepted");
    assert.equal((await listPendingInvites(p, actor)).length, 0);
    assert.deepEqual((await listMembers(p, actor)).map((m) => [m.email, m.role]), [[owner.email, "owner"], [bob.email, "admin"]]);

    // Expiry: 7 days after creation the link no longer works.
    const carol = await user(p, "carol");
    const created = new Date(Date.now() - INVITE_DAYS * 86400_000 - 1000);
    const old = await createInvite(p, actor, { email: carol.email }, { now: created });
    assert.equal((await getInvite(p, tokenOf(old.url))).state, "expired");
    await assert.rejects(acceptInvite(p, carol, tokenOf(old.url)), is("invite_expired"));
    const fresh = await createInvite(p, actor, { email: carol.email });
    await assert.rejects(acceptInvite(p, carol, tokenOf(fresh.url), { now: new Date(Date.now() + INVITE_DAYS * 86400_000 + 1000) }), is("invite_expired"));

    // Revoke: only in its own workspace; afterwards the link is dead.
    const outsider = await user(p, "outsider");
    await assert.rejects(revokeInvite(p, { userId: outsider.id, workspaceId: outsider.workspaceId }, fresh.id), is("not_found"), "another workspace's invite is not found");
    await revokeInvite(p, actor, fresh.id);
    await assert.rejects(acceptInvite(p, carol, tokenOf(fresh.url)), is("invite_expired"));
    assert.equal((await getInvite(p, tokenOf(fresh.url))).state, "revoked");

    // Already a member; personal workspaces cannot be shared.
    await assert.rejects(createInvite(p, actor, { email: bob.email }), is("validation_failed"));
    await assert.rejects(createInvite(p, { userId: owner.id, workspaceId: owner.workspaceId }, { email: carol.email }), is("forbidden"));
  });

  it("two concurrent accepts of one invite add one membership", async () => {
    const p = t.platform;
    const owner = await user(p, "race-owner");
    const team = await createTeamWorkspace(p, owner.id, { name: "Race" });
    const dan = await user(p, "dan");
    const inv = await createInvite(p, { userId: owner.id, workspaceId: team.id }, { email: dan.email });
    const results = await Promise.allSettled([acceptInvite(p, dan, tokenOf(inv.url)), acceptInvite(p, dan, tokenOf(inv.url))]);
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 1);
    assert.equal(await p.db.membership.count({ where: { workspaceId: team.id } }), 2);
  });

  it("role rules: members generate but cannot invite, manage keys, buy credits, rename or change roles", async () => {
    const p = t.platform;
    const owner = await user(p, "r-owner");
    const team = await createTeamWorkspace(p, owner.id, { name: "Roles" });
    const o = { userId: owner.id, workspaceId: team.id };
    const [adm, mem, outsider] = [await user(p, "r-admin"), await user(p, "r-member"), await user(p, "r-out")];
    await acceptInvite(p, adm, tokenOf((await createInvite(p, o, { email: adm.email, role: "admin" })).url));
    await acceptInvite(p, mem, tokenOf((await createInvite(p, o, { email: mem.email })).url));
    const a = { userId: adm.id, workspaceId: team.id };
    const m = { userId: mem.id, workspaceId: team.id };

    for (const perm of ["generate", "publish", "view_keys"] as const) assert.equal(await requirePermission(p, m, perm), "member");
    for (const perm of ["manage_keys", "buy_credits", "invite", "remove_member", "change_role", "rename"] as const) {
      await assert.rejects(requirePermission(p, m, perm), is("forbidden"), `member: ${perm}`);
    }
    for (const perm of ["manage_keys", "buy_credits", "invite", "remove_member"] as const) assert.equal(await requirePermission(p, a, perm), "admin");
    await assert.rejects(requirePermission(p, a, "change_role"), is("forbidden"));
    await assert.rejects(requirePermission(p, { userId: outsider.id, workspaceId: team.id }, "generate"), is("not_found"), "a non-member is told nothing");

    await assert.rejects(createInvite(p, m, { email: "x@example.com" }), is("forbidden"));
    await assert.rejects(createInvite(p, a, { email: "x@example.com", role: "owner" }), is("forbidden"), "only owners invite owners");
    await createInvite(p, a, { email: "x@example.com", role: "admin" });
    await assert.rejects(renameWorkspace(p, a, { name: "Mine now" }), is("forbidden"));
    await renameWorkspace(p, o, { name: "Roles 2" });
    await assert.rejects(changeMemberRole(p, a, mem.id, { role: "admin" }), is("forbidden"));
    await assert.rejects(removeMember(p, m, adm.id), is("forbidden"));
    await assert.rejects(removeMember(p, a, owner.id), is("forbidden"), "an admin cannot remove an owner");

    // The team's credits are spent by a member's generation.
    await grantCredits(p.db, { workspaceId: team.id, amount: 5, reason: "test", externalRef: `t:${team.id}` });
    const job = await submitGeneration(p, { workspaceId: team.id, userId: mem.id, source: "web" }, { prompt: "team work", width: 64, height: 64, steps: 2 });
    assert.equal(job.workspaceId, team.id);
    assert.equal((await p.db.workspace.findUniqueOrThrow({ where: { id: team.id } })).creditBalance, 4);

    // An admin removes a member; the member's role is gone at once.
    await removeMember(p, a, mem.id);
    await assert.rejects(requirePermission(p, m, "generate"), is("not_found"));
    await assert.rejects(removeMember(p, a, mem.id), is("not_found"));
  });

  it("the last owner can be neither demoted nor removed and cannot leave; others can leave", async () => {
    const p = t.platform;
    const owner = await user(p, "l-owner");
    const team = await createTeamWorkspace(p, owner.id, { name: "Last" });
    const o = { userId: owner.id, workspaceId: team.id };
    const zoe = await user(p, "zoe");
    await acceptInvite(p, zoe, tokenOf((await createInvite(p, o, { email: zoe.email })).url));
    const z = { userId: zoe.id, workspaceId: team.id };

    await assert.rejects(changeMemberRole(p, o, owner.id, { role: "admin" }), is("last_owner"));
    await assert.rejects(leaveWorkspace(p, o), is("last_owner"));
    await assert.rejects(removeMember(p, o, owner.id), is("last_owner"), "removing yourself is leaving");
    await assert.rejects(changeMemberRole(p, o, zoe.id, { role: "boss" }), is("validation_failed"));

    // Two owners: one may step down; then the other is the last one again.
    await changeMemberRole(p, o, zoe.id, { role: "owner" });
    await changeMemberRole(p, z, owner.id, { role: "member" });
    await assert.rejects(changeMemberRole(p, z, zoe.id, { role: "member" }), is("last_owner"));
    // Concurrent demotions of both owners: the row lock lets only one through.
    await changeMemberRole(p, z, owner.id, { role: "owner" });
    const both = await Promise.allSettled([changeMemberRole(p, o, zoe.id, { role: "member" }), changeMemberRole(p, z, owner.id, { role: "member" })]);
    assert.equal(both.filter((r) => r.status === "fulfilled").length, 1);
    assert.equal(await p.db.membership.count({ where: { workspaceId: team.id, role: "owner" } }), 1);

    const stillOwner = (await p.db.membership.findFirstOrThrow({ where: { workspaceId: team.id, role: "owner" } })).userId;
    const member = stillOwner === owner.id ? z : o;
    await leaveWorkspace(p, member);
    assert.equal(await p.db.membership.count({ where: { workspaceId: team.id } }), 1);
    await assert.rejects(leaveWorkspace(p, { userId: owner.id, workspaceId: owner.workspaceId }), is("forbidden"), "nobody leaves their personal workspace");
  });

  it("switching the session's workspace: only to one you belong to; removal sends the session back to personal", async () => {
    const p = t.platform;
    const owner = await user(p, "s-owner");
    const team = await createTeamWorkspace(p, owner.id, { name: "Switch" });
    const sam = await user(p, "sam");
    const s = new Headers({ cookie: (await signIn(p, { email: sam.email, password: "password123" })).cookie });
    const viewer = (await resolveSession(p, s))!;
    assert.equal(viewer.workspace.id, sam.workspaceId);
    const session = { sessionId: viewer.sessionId, userId: sam.id };

    await assert.rejects(setCurrentWorkspace(p, session, team.id), is("not_found"), "not a member");
    await assert.rejects(setCurrentWorkspace(p, session, owner.workspaceId), is("not_found"), "someone's personal workspace");
    await assert.rejects(setCurrentWorkspace(p, session, "not-a-uuid"), is("not_found"));
    assert.equal((await resolveSession(p, s))!.workspace.id, sam.workspaceId);

    await acceptInvite(p, sam, tokenOf((await createInvite(p, { userId: owner.id, workspaceId: team.id }, { email: sam.email })).url));
    await setCurrentWorkspace(p, session, team.id);
    const inTeam = (await resolveSession(p, s))!;
    assert.deepEqual([inTeam.workspace.id, inTeam.workspace.kind, inTeam.role], [team.id, "team", "member"]);

    await removeMember(p, { userId: owner.id, workspaceId: team.id }, sam.id);
    const after = (await resolveSession(p, s))!;
    assert.equal(after.workspace.id, sam.workspaceId, "a removed member's session falls back to their personal workspace");
  });
});
