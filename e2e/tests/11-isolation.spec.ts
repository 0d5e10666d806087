// Tenant isolation, route by route. Every page.tsx and route.ts under
// apps/web/app must have an entry below, so a new route without a decision
// about who may reach it fails this test. Each entry is probed as:
//   owner   - user A, whose objects the probes name (the control: the probe reaches something)
//   other   - user B, signed in, a member of another workspace (cookie session)
//   otherKey- user B's API key (API routes only)
//   anon    - a signed-out visitor
// and no response to B or the visitor may contain anything of A's.
import { readdirSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, test, type APIRequestContext, type APIResponse, type Page } from "@playwright/test";
import { generate, signUp, uniqueEmail } from "./helpers.ts";

const APP_DIR = fileURLToPath(new URL("../../apps/web/app", import.meta.url));

/** Route patterns from the file tree: `settings/keys/page.tsx` → `/settings/keys`; route groups dropped. */
function routeFiles(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (/^(page\.(tsx|ts|jsx|js)|route\.(ts|js))$/.test(e.name)) {
        const segs = relative(APP_DIR, dir).split(sep).filter((s) => s && !/^\(.*\)$/.test(s));
        out.push(`${e.name.startsWith("page") ? "page" : "route"} /${segs.join("/")}`);
      }
    }
  };
  walk(APP_DIR);
  return out.sort();
}

interface Fixtures {
  jobId: string;
  imageId: string;
  keyId: string;
  keyPrefix: string;
  inviteToken: string;
  inviteId: string;
  teamId: string;
  personalId: string;
  email: string;
  prompt: string;
}

type Role = "owner" | "other" | "otherKey" | "anon";
/** A status, `signin` (a redirect to /signin), or a redirect to another path. */
type Outcome = number | "signin" | { redirect: string };
interface Probe {
  method: "GET" | "POST";
  url: (f: Fixtures) => string;
  body?: unknown;
  expect: Partial<Record<Role, Outcome | Outcome[]>>;
  /** What the owner's answer must contain: proves the probe reached A's object. */
  ownerSees?: (f: Fixtures) => string;
}
interface RouteRule {
  /** Set for routes a signed-out visitor may use: the reason they are public on purpose. */
  publicBecause?: string;
  probes: Probe[];
}

const BOGUS_TOKEN = "x".repeat(43);

// Private pages: signed-out visitors are sent to /signin; B sees only B's workspace.
const privatePage = (path: string, ownerSees?: Probe["ownerSees"]): RouteRule => ({
  probes: [{ method: "GET", url: () => path, expect: { owner: 200, other: 200, anon: "signin" }, ownerSees }],
});
// An API route about one of A's objects: B is told it does not exist, the visitor must authenticate.
const objectApi = (method: Probe["method"], url: Probe["url"], owner: Outcome | Outcome[], ownerSees?: Probe["ownerSees"]): Probe => ({
  method,
  url,
  expect: { owner, other: 404, otherKey: 404, anon: 401 },
  ownerSees,
});

const ROUTES: Record<string, RouteRule> = {
  "page /": { publicBecause: "landing page (signed-in users go to the studio)", probes: [{ method: "GET", url: () => "/", expect: { owner: { redirect: "/studio" }, other: { redirect: "/studio" }, anon: 200 } }] },
  "page /signin": { publicBecause: "sign-in form", probes: [{ method: "GET", url: () => "/signin", expect: { anon: 200 } }] },
  "page /signup": { publicBecause: "sign-up form", probes: [{ method: "GET", url: () => "/signup", expect: { anon: 200 } }] },
  "page /forgot-password": { publicBecause: "asks for a reset link by email", probes: [{ method: "GET", url: () => "/forgot-password", expect: { anon: 200 } }] },
  "page /reset-password": { publicBecause: "the emailed token is the capability (spent on submit)", probes: [{ method: "GET", url: () => "/reset-password?token=bogus", expect: { anon: 200 } }] },
  "page /verify-email": { publicBecause: "the emailed token is the capability", probes: [{ method: "GET", url: () => "/verify-email?token=bogus", expect: { other: 200, anon: 200 } }] },
  "route /auth/[provider]": { publicBecause: "starts OAuth sign-in", probes: [{ method: "GET", url: () => "/auth/no-such-provider", expect: { anon: { redirect: "/signin" } } }] },
  "route /api/auth/callback/[provider]": {
    publicBecause: "OAuth provider's return to better-auth; the state (database) and its signed cookie are checked",
    probes: [{ method: "GET", url: () => "/api/auth/callback/github?code=x&state=y", expect: { anon: { redirect: "/signin" } } }],
  },
  "page /docs": { publicBecause: "API documentation", probes: [{ method: "GET", url: () => "/docs", expect: { anon: { redirect: "/docs/api" } } }] },
  "page /docs/api": { publicBecause: "API documentation", probes: [{ method: "GET", url: () => "/docs/api", expect: { anon: 200 } }] },
  "page /gallery": { publicBecause: "the public gallery (published images only)", probes: [{ method: "GET", url: () => "/gallery", expect: { owner: 200, other: 200, anon: 200 } }] },
  "page /gallery/[id]": {
    publicBecause: "a published image's page; an unpublished one is 404 for everyone, its owner included",
    probes: [{ method: "GET", url: (f) => `/gallery/${f.imageId}`, expect: { owner: 404, other: 404, anon: 404 } }],
  },
  "page /invite/[token]": {
    publicBecause: "the unguessable token is the capability and the invitee may not have an account yet; unknown tokens are 404",
    probes: [{ method: "GET", url: () => `/invite/${BOGUS_TOKEN}`, expect: { owner: 404, other: 404, anon: 404 } }],
  },
  "page /studio": privatePage("/studio", (f) => f.prompt),
  "page /billing": privatePage("/billing", (f) => f.email),
  "page /billing/success": privatePage("/billing/success?session_id=not-a-session"),
  "page /settings/keys": privatePage("/settings/keys", (f) => f.keyId),
  "page /settings/workspace": privatePage("/settings/workspace", (f) => f.email),
  "page /settings/webhooks": privatePage("/settings/webhooks", (f) => f.email),
  "page /usage": privatePage("/usage", (f) => f.email),
  // Operators only: everyone else (signed out too) gets the ordinary 404, even naming A's workspace.
  "page /admin": { probes: [{ method: "GET", url: (f) => `/admin?q=${encodeURIComponent(f.email)}&workspace=${f.personalId}`, expect: { owner: 404, other: 404, anon: 404 } }] },

  "route /api/health": { publicBecause: "load balancer health check (no tenant data)", probes: [{ method: "GET", url: () => "/api/health", expect: { owner: 200, other: 200, anon: 200 } }] },
  "route /api/v1/openapi.json": { publicBecause: "the API description", probes: [{ method: "GET", url: () => "/api/v1/openapi.json", expect: { anon: 200 } }] },
  "route /api/stripe/webhook": {
    publicBecause: "Stripe calls it; every event must carry a valid Stripe signature",
    probes: [{ method: "POST", url: () => "/api/stripe/webhook", body: { type: "checkout.session.completed" }, expect: { other: 400, otherKey: 400, anon: 400 } }],
  },
  "route /images/[id]": {
    publicBecause: "serves published images to anyone; a private image is 404 outside its workspace",
    probes: [{ method: "GET", url: (f) => `/images/${f.imageId}`, expect: { owner: 200, other: 404, otherKey: 404, anon: 404 } }],
  },
  "route /images/[id]/thumbnail": {
    publicBecause: "as /images/[id]",
    probes: [{ method: "GET", url: (f) => `/images/${f.imageId}/thumbnail`, expect: { owner: 200, other: 404, otherKey: 404, anon: 404 } }],
  },

  "route /api/v1/generations": {
    probes: [
      { method: "GET", url: () => "/api/v1/generations", expect: { owner: 200, other: 200, otherKey: 200, anon: 401 }, ownerSees: (f) => f.jobId },
      { method: "POST", url: () => "/api/v1/generations", body: {}, expect: { other: 400, otherKey: 400, anon: 401 } },
    ],
  },
  "route /api/v1/generations/[id]": { probes: [objectApi("GET", (f) => `/api/v1/generations/${f.jobId}`, 200, (f) => f.jobId)] },
  "route /api/v1/generations/[id]/cancel": { probes: [objectApi("POST", (f) => `/api/v1/generations/${f.jobId}/cancel`, 200, () => "already_finished")] },
  "route /api/v1/generations/[id]/events": { probes: [objectApi("GET", (f) => `/api/v1/generations/${f.jobId}/events`, 200, (f) => f.jobId)] },
  // A finished job may or may not still have a preview; B's 404 is checked to be "generation not found".
  "route /api/v1/generations/[id]/preview": { probes: [objectApi("GET", (f) => `/api/v1/generations/${f.jobId}/preview`, [200, 404])] },
  "route /api/v1/images/[id]": { probes: [objectApi("GET", (f) => `/api/v1/images/${f.imageId}`, 200)] },
  "route /api/v1/ping": { probes: [{ method: "GET", url: () => "/api/v1/ping", expect: { owner: 200, other: 200, otherKey: 200, anon: 401 }, ownerSees: (f) => f.personalId }] },
  "route /usage/ledger.csv": { probes: [{ method: "GET", url: () => "/usage/ledger.csv", expect: { owner: 200, other: 200, anon: 401 } }] },
  "route /api/v1/images/generations": {
    probes: [{ method: "POST", url: () => "/api/v1/images/generations", body: {}, expect: { owner: 400, other: 400, otherKey: 400, anon: 401 } }],
  },
};

async function call(ctx: APIRequestContext, probe: Probe, f: Fixtures, headers: Record<string, string> = {}): Promise<APIResponse> {
  const url = probe.url(f);
  const opts = { headers, maxRedirects: 0, failOnStatusCode: false };
  return probe.method === "GET" ? ctx.get(url, opts) : ctx.post(url, { ...opts, data: probe.body ?? {} });
}

function matches(res: APIResponse, outcome: Outcome): boolean {
  const location = res.headers()["location"] ?? "";
  const isRedirect = [302, 303, 307, 308].includes(res.status());
  if (outcome === "signin") return isRedirect && new URL(location, "http://x").pathname === "/signin";
  if (typeof outcome === "object") return isRedirect && new URL(location, "http://x").pathname === outcome.redirect;
  return res.status() === outcome;
}

async function keyIdFromPage(page: Page): Promise<string> {
  return (await page.locator('input[name="keyId"]').first().getAttribute("value"))!;
}

test("every page and API route refuses other workspaces and signed-out visitors", async ({ browser, request }) => {
  test.setTimeout(180_000);
  // Coverage first: the route table and the file tree must agree.
  const files = routeFiles();
  expect(files.filter((r) => !(r in ROUTES)), "routes without an isolation rule").toEqual([]);
  expect(Object.keys(ROUTES).filter((r) => !files.includes(r)), "rules for routes that no longer exist").toEqual([]);

  // User A: a job with an image (published nowhere), an API key, a team with a pending invite.
  const aContext = await browser.newContext();
  const a = await aContext.newPage();
  const email = uniqueEmail("iso-a");
  await signUp(a, email);
  const prompt = `isolation secret ${Date.now()}`;
  const job = await generate(a, prompt);
  const imageId = (await job.getByTestId("job-image").first().getAttribute("src"))!.split("/").pop()!;
  const jobId: string = (await (await a.request.get("/api/v1/generations")).json()).data[0].id;
  await a.goto("/settings/keys");
  await a.getByLabel("New key name").fill("a-secret-key");
  await a.getByRole("button", { name: "Create key" }).click();
  await expect(a.getByTestId("new-api-key")).toBeVisible();
  await a.reload();
  const keyId = await keyIdFromPage(a);
  const keyPrefix = (await a.getByTestId("api-key-row").locator("code").textContent())!.trim();
  const personalId = await a.getByTestId("workspace-switcher").inputValue();
  await a.goto("/settings/workspace");
  const teamName = `A team ${Date.now()}`;
  await a.getByLabel("Team name").fill(teamName);
  await a.getByRole("button", { name: "Create team" }).click();
  await expect(a.getByTestId("workspace-name")).toHaveText(teamName);
  const teamId = await a.getByTestId("workspace-switcher").inputValue();
  expect(teamId).not.toBe(personalId);
  await a.getByLabel("Email", { exact: true }).fill(uniqueEmail("iso-invitee"));
  await a.getByRole("button", { name: "Create invite link" }).click();
  const inviteToken = (await a.getByTestId("invite-link").textContent())!.trim().split("/").pop()!;
  await a.reload();
  const inviteId = (await a.locator('input[name="inviteId"]').getAttribute("value"))!;
  // Back to the personal workspace, where the job and key live.
  await Promise.all([a.waitForEvent("load"), a.getByTestId("workspace-switcher").selectOption(personalId)]);
  const f: Fixtures = { jobId, imageId, keyId, keyPrefix, inviteToken, inviteId, teamId, personalId, email, prompt };
  const secrets = [jobId, imageId, keyId, keyPrefix, inviteToken, inviteId, teamId, personalId, email, prompt];

  // User B, with their own workspace and key.
  const bContext = await browser.newContext();
  const b = await bContext.newPage();
  await signUp(b, uniqueEmail("iso-b"));
  await b.goto("/settings/keys");
  await b.getByLabel("New key name").fill("b-key");
  await b.getByRole("button", { name: "Create key" }).click();
  const bKey = (await b.getByTestId("new-api-key").textContent())!.trim();

  const roles: Record<Role, { ctx: APIRequestContext; headers?: Record<string, string> }> = {
    owner: { ctx: a.request },
    other: { ctx: b.request },
    otherKey: { ctx: request, headers: { authorization: `Bearer ${bKey}` } },
    anon: { ctx: request },
  };
  const failures: string[] = [];
  let checks = 0;
  const perRole: Record<Role, number> = { owner: 0, other: 0, otherKey: 0, anon: 0 };
  for (const [route, rule] of Object.entries(ROUTES)) {
    for (const probe of rule.probes) {
      // Every probe is tried signed out; a route off the public list must refuse the visitor.
      if (!rule.publicBecause) {
        const want = probe.expect.anon;
        // Pages send visitors to sign in (or hide behind a 404); APIs answer 401.
        const refusals: Outcome[] = route.startsWith("page ") ? ["signin", 404] : [401];
        if (!refusals.includes(want as Outcome)) failures.push(`${route}: a private route must expect ${refusals.join(" or ")} for signed-out visitors, the table says ${JSON.stringify(want)}`);
      }
      for (const role of ["owner", "other", "otherKey", "anon"] as const) {
        const want = probe.expect[role];
        if (want === undefined) continue;
        const { ctx, headers } = roles[role];
        const res = await call(ctx, probe, f, headers);
        const body = await res.text();
        checks++;
        perRole[role]++;
        const label = `${role} ${probe.method} ${probe.url(f)} (${route})`;
        const wants = Array.isArray(want) ? want : [want];
        if (!wants.some((w) => matches(res, w))) failures.push(`${label}: expected ${JSON.stringify(want)}, got ${res.status()} ${res.headers()["location"] ?? ""}`);
        if (role === "owner") {
          const seen = probe.ownerSees?.(f);
          if (seen && !body.includes(seen)) failures.push(`${label}: the owner's answer should contain ${seen} (the probe must reach A's object)`);
          continue;
        }
        // Echoing the requested URL (Next's 404 and redirect payloads do) reveals nothing new.
        const leaked = secrets.filter((s) => !probe.url(f).includes(s) && !probe.url(f).includes(encodeURIComponent(s)) && body.includes(s));
        if (leaked.length) failures.push(`${label}: the answer contains A's ${leaked.join(", ")}`);
        if (res.status() === 404 && res.headers()["content-type"]?.includes("json")) {
          const code = JSON.parse(body).code;
          if (code !== "not_found") failures.push(`${label}: a 404 should say not_found, got ${code}`);
        }
      }
    }
  }
  const publicRoutes = Object.entries(ROUTES).filter(([, r]) => r.publicBecause).map(([k]) => k);
  console.log(`isolation: ${files.length} routes (${publicRoutes.length} public on purpose), ${checks} probes (${Object.entries(perRole).map(([r, n]) => `${r} ${n}`).join(", ")})`);
  test.info().annotations.push({ type: "isolation-matrix", description: `${files.length} routes, ${checks} probes` });
  expect(failures).toEqual([]);

  // The invite link is public on purpose, but only the invited address can use it.
  const inviteForAnon = await request.get(`/invite/${inviteToken}`);
  expect(inviteForAnon.status()).toBe(200);
  expect(await inviteForAnon.text()).not.toContain(email);
  await b.goto(`/invite/${inviteToken}`);
  await expect(b.getByTestId("invite-state")).toContainText("this invite is for");
  await expect(b.getByRole("button", { name: "Accept invite" })).toHaveCount(0);

  // Objects named in forms (server actions) are scoped too: B cannot revoke A's key.
  await b.goto("/settings/keys");
  await b.locator('input[name="keyId"]').first().evaluate((el, id) => ((el as HTMLInputElement).value = id), keyId);
  await Promise.all([
    b.waitForResponse((r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/settings/keys"),
    b.getByRole("button", { name: "Revoke" }).first().click(),
  ]);
  await a.goto("/settings/keys");
  await expect(a.getByTestId("api-key-row")).not.toContainText("revoked");
  // B's own key is untouched too, so the action really was asked about A's key.
  await b.goto("/settings/keys");
  await expect(b.getByTestId("api-key-row")).not.toContainText("revoked");
  await aContext.close();
  await bContext.close();
});
