// Operator commands. They use the same config and domain code as the web app,
// so they act on whatever platform the environment (or a running `npm start`) points at.
import { parseArgs } from "node:util";
import { randomUUID } from "node:crypto";
import { ConfigError, loadConfig } from "@lucid/config";
import { AppError, closePlatform, createApiKey, createPlatform, findBalanceMismatches, findUserByEmail, grantCredits, grantOperator, revokeOperator, setWorkspacePlan, signUp, type Platform } from "@lucid/core";

const USAGE = `Usage: npm run lucid -- <command> [options]

  users:create  --email <e> --password <p>             a verified user with a personal workspace
  credits:grant --email <e> --amount <n> --reason <t>  credits to that user's personal workspace
  credits:grant --workspace <id> --amount <n> --reason <t>  credits to any workspace (e.g. a team)
  keys:create   --email <e> --name <name>              a new API key (printed alone on the last line)
  plans:set     --email <e> | --workspace <id> --plan <name>  put a workspace on a plan (API limits; LUCID_PLANS)
  credits:check                                        balances equal the sum of their ledger entries
  operators:grant  --email <e>                         make a user an operator (opens /admin)
  operators:revoke --email <e>                         take the operator flag away
`;

async function userWorkspace(p: Platform, email: string) {
  const user = await findUserByEmail(p, email);
  if (!user?.personalWorkspaceId) throw new AppError("not_found", `no user with email ${email}`);
  return user;
}

const commands: Record<string, (p: Platform, v: Record<string, string | undefined>) => Promise<void>> = {
  async "users:create"(p, v) {
    const user = await signUp(p, { email: v.email, password: v.password }, { verified: true });
    console.log(`Created user ${user.email} (id ${user.id}) with personal workspace ${user.workspaceId} and ${p.config.starterCredits} starter credits.`);
  },
  async "credits:grant"(p, v) {
    const amount = Number(v.amount);
    if (!v.reason) throw new AppError("validation_failed", "--reason is required");
    if (v.workspace) {
      const ws = await p.db.workspace.findFirst({ where: { id: v.workspace } }).catch(() => null);
      if (!ws) throw new AppError("not_found", `no workspace with id ${v.workspace}`);
      const r = await grantCredits(p.db, { workspaceId: ws.id, amount, reason: v.reason, externalRef: `cli:grant:${randomUUID()}` });
      return console.log(`Granted ${amount} credits to workspace ${ws.name} (${ws.id}). Balance: ${r.balance}.`);
    }
    const user = await userWorkspace(p, v.email ?? "");
    const r = await grantCredits(p.db, { workspaceId: user.personalWorkspaceId!, amount, reason: v.reason, externalRef: `cli:grant:${randomUUID()}` });
    console.log(`Granted ${amount} credits to ${user.email}. Balance: ${r.balance}.`);
  },
  async "keys:create"(p, v) {
    const user = await userWorkspace(p, v.email ?? "");
    const key = await createApiKey(p, user.personalWorkspaceId!, user.id, { name: v.name });
    console.log(`Created API key "${key.name}" (${key.prefix}) for ${user.email}. It is shown only once:`);
    console.log(key.key);
  },
  async "plans:set"(p, v) {
    const workspaceId = v.workspace ?? (await userWorkspace(p, v.email ?? "")).personalWorkspaceId!;
    await setWorkspacePlan(p, workspaceId, v.plan ?? "");
    const plan = p.config.plans[v.plan!]!;
    console.log(`Workspace ${workspaceId} is on plan "${v.plan}": ${plan.requestsPerMinute} requests/min per key, ${plan.maxInFlightJobs} jobs in flight.`);
  },
  async "credits:check"(p) {
    const bad = await findBalanceMismatches(p.db);
    if (bad.length === 0) return console.log("OK: every workspace balance equals the sum of its ledger entries.");
    for (const b of bad) console.error(`MISMATCH workspace ${b.workspaceId}: balance ${b.balance}, ledger ${b.ledgerSum}`);
    process.exitCode = 1;
  },
  async "operators:grant"(p, v) {
    const u = await grantOperator(p, v.email ?? "");
    console.log(`${u.email} is now an operator: /admin is open to them.`);
  },
  async "operators:revoke"(p, v) {
    await revokeOperator(p, v.email ?? "");
    console.log(`${v.email} is no longer an operator.`);
  },
};

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  const run = command ? commands[command] : undefined;
  if (!run) {
    console.error(USAGE);
    process.exit(command ? 2 : 0);
  }
  const { values } = parseArgs({
    args: rest,
    options: { email: { type: "string" }, password: { type: "string" }, amount: { type: "string" }, reason: { type: "string" }, name: { type: "string" }, workspace: { type: "string" }, plan: { type: "string" } },
    strict: true,
  });
  const p = createPlatform(loadConfig());
  try {
    await run(p, values);
  } finally {
    await closePlatform(p);
  }
}

main().catch((err) => {
  if (err instanceof AppError || err instanceof ConfigError) {
    console.error(`error: ${err.message}`);
    process.exit(1);
  }
  if (err instanceof TypeError && (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
    console.error(`error: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  console.error(err);
  process.exit(1);
});
