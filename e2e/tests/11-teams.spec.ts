import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, test, type Page } from "@playwright/test";
import { balance, generate, signUp, uniqueEmail } from "./helpers.ts";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** The operator path: `npm run lucid -- credits:grant --workspace <id>` against the platform under test. */
function grantToWorkspace(workspaceId: string, amount: number) {
  const out = execFileSync(
    process.execPath,
    ["--import", "tsx", "apps/cli/src/main.ts", "credits:grant", "--workspace", workspaceId, "--amount", String(amount), "--reason", "e2e team credits"],
    { cwd: REPO_ROOT, env: { ...process.env, LUCID_DATA_DIR: process.env.LUCID_E2E_DATA_DIR }, encoding: "utf8" },
  );
  expect(out).toContain(`Granted ${amount} credits to workspace`);
}

const switcher = (page: Page) => page.getByTestId("workspace-switcher");

async function switchTo(page: Page, label: string | RegExp) {
  const option = switcher(page).locator("option").filter({ hasText: label });
  const value = (await option.getAttribute("value"))!;
  // The switcher reloads the page once the server has switched.
  await Promise.all([page.waitForEvent("load"), switcher(page).selectOption(value)]);
  await expect(switcher(page)).toHaveValue(value);
}

test("a team: create, invite, accept via the link, switch in the header, generate on team credits, remove the member", async ({ page, browser }) => {
  const ownerEmail = uniqueEmail("team-owner");
  const memberEmail = uniqueEmail("team-member");
  const teamName = `Acme ${Date.now()}`;

  // The owner creates a team: it becomes current, with 0 credits.
  await signUp(page, ownerEmail);
  await page.getByRole("link", { name: "Workspace" }).click();
  await page.getByLabel("Team name").fill(teamName);
  await page.getByRole("button", { name: "Create team" }).click();
  await expect(page.getByTestId("workspace-name")).toHaveText(teamName);
  await expect(page.getByTestId("workspace-role")).toHaveText("owner");
  await expect(page.getByTestId("balance")).toHaveText("0 credits");
  const teamId = await switcher(page).inputValue();

  // The last owner cannot leave.
  await page.getByRole("button", { name: "Leave this workspace" }).click();
  await expect(page.getByRole("alert").filter({ hasText: "A workspace needs an owner" })).toBeVisible();

  // Invite by email: the link is shown to copy (email delivery is not wired yet).
  await page.getByLabel("Email", { exact: true }).fill(memberEmail);
  await page.getByLabel("Role", { exact: true }).selectOption("member");
  await page.getByRole("button", { name: "Create invite link" }).click();
  const link = (await page.getByTestId("invite-link").textContent())!.trim();
  expect(link).toMatch(/\/invite\/[A-Za-z0-9_-]{43}$/);
  // The runner's mail catcher receives the same link.
  await expect(page.getByTestId("invite-sent")).toContainText("We emailed the invite");
  await expect
    .poll(async () => {
      const mails = (await (await fetch(`${process.env.LUCID_E2E_MAIL_URL}/api/email`)).json()) as Array<{ text: string; to: Array<{ address: string }> }>;
      return mails.filter((m) => m.to.some((t) => t.address === memberEmail)).map((m) => m.text.includes(link));
    })
    .toEqual([true]);
  await page.reload();
  await expect(page.getByTestId("invite-row")).toContainText(memberEmail);

  // The invitee opens the link signed out, signs up and joins in one step.
  const memberContext = await browser.newContext();
  const member = await memberContext.newPage();
  await member.goto(new URL(link).pathname);
  await expect(member.getByTestId("invite-summary")).toContainText(`${memberEmail} is invited to the team workspace ${teamName} as member`);
  const join = member.locator("form", { hasText: "Create an account and join" });
  await expect(join.getByLabel("Email")).toHaveValue(memberEmail);
  await join.getByLabel("Password").fill("correct horse battery");
  await join.getByRole("button", { name: "Sign up and join" }).click();
  await expect(member).toHaveURL(/\/studio$/);
  await expect(switcher(member)).toHaveValue(teamId);
  expect(await balance(member)).toBe(0);

  // The link worked once.
  await member.goto(new URL(link).pathname);
  await expect(member.getByTestId("invite-state")).toHaveText("This invite has already been used.");

  // Switching in the header: personal (starter credits), then back to the team.
  await member.goto("/studio");
  await switchTo(member, "(personal)");
  await expect(member.getByTestId("balance")).toHaveText("50 credits");
  await switchTo(member, teamName);
  await expect(member.getByTestId("balance")).toHaveText("0 credits");

  // A member may not manage keys or buy credits.
  await member.goto("/settings/keys");
  await expect(member.getByTestId("keys-role-notice")).toBeVisible();
  await expect(member.getByRole("button", { name: "Create key" })).toHaveCount(0);
  await member.goto("/billing");
  await expect(member.getByTestId("billing-role-notice")).toBeVisible();

  // The operator grants the team credits; the member generates on them.
  grantToWorkspace(teamId, 10);
  const job = await generate(member, "a team lighthouse");
  await expect(job.getByTestId("job-image")).toHaveCount(1);
  await member.reload();
  const afterGenerate = await balance(member);
  expect(afterGenerate).toBe(9); // one credit for a small image
  const list = await (await member.request.get("/api/v1/generations")).json();
  const teamJobId: string = list.data[0].id;
  expect(list.data.map((g: { status: string }) => g.status)).toEqual(["succeeded"]);
  // The owner sees the same team balance and the member's work.
  await page.goto("/studio");
  expect(await balance(page)).toBe(afterGenerate);
  await expect(page.getByTestId("job").filter({ hasText: "a team lighthouse" })).toHaveCount(1);
  // The member's personal workspace was not charged.
  await switchTo(member, "(personal)");
  await expect(member.getByTestId("balance")).toHaveText("50 credits");
  await switchTo(member, teamName);

  // The owner removes the member.
  await page.goto("/settings/workspace");
  await expect(page.getByTestId("member-row")).toHaveCount(2);
  await page.getByRole("button", { name: `Remove ${memberEmail}` }).click();
  await expect(page.getByTestId("member-row")).toHaveCount(1);

  // The member is back in their personal workspace and the team's work is gone from view.
  await member.goto("/studio");
  await expect(switcher(member).locator("option")).toHaveCount(1);
  await expect(member.getByTestId("balance")).toHaveText("50 credits");
  expect((await member.request.get(`/api/v1/generations/${teamJobId}`)).status()).toBe(404);
  await memberContext.close();
});

test("existing accounts join: signed in with the invited address, or signing in on the invite page; admins manage keys", async ({ page, browser }) => {
  const teamName = `Beta ${Date.now()}`;
  await signUp(page, uniqueEmail("beta-owner"));
  await page.goto("/settings/workspace");
  await page.getByLabel("Team name").fill(teamName);
  await page.getByRole("button", { name: "Create team" }).click();
  await expect(page.getByTestId("workspace-name")).toHaveText(teamName);
  const invite = async (email: string, role: string) => {
    await page.getByLabel("Email", { exact: true }).fill(email);
    await page.getByLabel("Role", { exact: true }).selectOption(role);
    await page.getByRole("button", { name: "Create invite link" }).click();
    await expect(page.getByTestId("invite-link")).toContainText("/invite/");
    const link = (await page.getByTestId("invite-link").textContent())!.trim();
    await page.reload();
    return new URL(link).pathname;
  };

  // Already signed in with the invited address: one click.
  const adminEmail = uniqueEmail("beta-admin");
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await signUp(admin, adminEmail);
  await admin.goto(await invite(adminEmail, "admin"));
  await admin.getByRole("button", { name: "Accept invite" }).click();
  await expect(admin).toHaveURL(/\/studio$/);
  await expect(admin.getByTestId("workspace-switcher").locator("option:checked")).toHaveText(teamName);
  // An admin creates the team's keys.
  await admin.goto("/settings/keys");
  await admin.getByLabel("New key name").fill("team-ci");
  await admin.getByRole("button", { name: "Create key" }).click();
  await expect(admin.getByTestId("new-api-key")).toContainText("lucid_sk_");

  // Signed out with an existing account: sign in on the invite page.
  const memberEmail = uniqueEmail("beta-member");
  const memberContext = await browser.newContext();
  const member = await memberContext.newPage();
  await signUp(member, memberEmail);
  await member.getByRole("button", { name: "Sign out" }).click();
  await expect(member.getByRole("navigation").getByRole("link", { name: "Sign in" })).toBeVisible();
  await member.goto(await invite(memberEmail, "member"));
  const signIn = member.locator("form", { hasText: "Sign in and join" });
  await signIn.getByLabel("Password").fill("wrong password");
  await signIn.getByRole("button", { name: "Sign in and join" }).click();
  await expect(signIn.getByRole("alert")).toContainText("incorrect");
  await signIn.getByLabel("Password").fill("correct horse battery");
  await signIn.getByRole("button", { name: "Sign in and join" }).click();
  await expect(member).toHaveURL(/\/studio$/);
  await expect(member.getByTestId("workspace-switcher").locator("option:checked")).toHaveText(teamName);

  await page.reload();
  await expect(page.getByTestId("member-row")).toHaveCount(3);
  await expect(page.getByTestId("invite-row")).toHaveCount(0);
  await adminContext.close();
  await memberContext.close();
});
