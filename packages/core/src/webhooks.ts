import { createHmac, randomBytes } from "node:crypto";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import ipaddr from "ipaddr.js";
import {
  CreateWebhookEndpointRequest,
  WEBHOOK_PROGRESS_EVERY_STEPS,
  describeFieldErrors,
  fieldErrors,
  type WebhookEventPayload,
  type WebhookEventType,
} from "@lucid/contracts";
import type { Prisma, Role, WebhookEndpoint } from "@lucid/db";
import { AppError, notFound } from "./errors.ts";
import { generationUrls } from "./generation-urls.ts";
import { isUuid, toGeneration } from "./jobs.ts";
import type { Platform } from "./platform.ts";

type Tx = Prisma.TransactionClient;

// ── Where deliveries may go (SSRF) ──────────────────────────────────────────

/**
 * Whether a webhook may be sent to this IP address: only public unicast
 * addresses (no private, loopback, link-local — which includes the cloud
 * metadata address 169.254.169.254 —, unique-local, CGNAT, multicast or
 * reserved ranges), unless the address is inside one of `allowedCidrs`.
 */
export function isAllowedWebhookAddress(address: string, allowedCidrs: readonly string[] = []): boolean {
  if (!ipaddr.isValid(address)) return false;
  // An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is judged as the IPv4 address it is.
  const ip = ipaddr.process(address);
  for (const cidr of allowedCidrs) {
    const [range, bits] = ipaddr.parseCIDR(cidr);
    if (range.kind() === ip.kind() && ip.match(range, bits)) return true;
  }
  return ip.range() === "unicast";
}

export class WebhookTargetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WebhookTargetError";
  }
}

const allowedCidrs = (p: Pick<Platform, "config">) => p.config.webhooks?.allowedCidrs ?? [];

/** The URL's host without IPv6 brackets. */
const hostOf = (url: URL) => url.hostname.replace(/^\[(.*)\]$/, "$1");

/**
 * Resolves the URL's host and checks every address it resolves to; throws
 * WebhookTargetError naming the refused address. Only http(s), no credentials.
 */
export async function checkWebhookTarget(rawUrl: string, cidrs: readonly string[]): Promise<void> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new WebhookTargetError("is not a valid URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new WebhookTargetError("must be an http:// or https:// URL");
  if (url.username || url.password) throw new WebhookTargetError("must not contain credentials");
  const host = hostOf(url);
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      throw new WebhookTargetError(`host ${host} could not be resolved`);
    }
  }
  const refused = addresses.find((a) => !isAllowedWebhookAddress(a, cidrs));
  if (refused) throw new WebhookTargetError(`must not point at a private, loopback or link-local address (${host} is ${refused})`);
}

/** checkWebhookTarget as a 400 naming the request field. */
export async function assertWebhookTarget(p: Pick<Platform, "config">, url: string, field: string): Promise<void> {
  try {
    await checkWebhookTarget(url, allowedCidrs(p));
  } catch (err) {
    if (!(err instanceof WebhookTargetError)) throw err;
    throw new AppError("validation_failed", `${field} ${err.message}`, [{ field, message: err.message }]);
  }
}

// ── Secrets ─────────────────────────────────────────────────────────────────

const WEBHOOK_SECRET_PREFIX = "whsec_";

/** A new endpoint signing secret in the Standard Webhooks format: "whsec_" + base64 of 24 random bytes. */
export const newWebhookSecret = () => WEBHOOK_SECRET_PREFIX + randomBytes(24).toString("base64");

/**
 * The secret that signs deliveries to a generation's own `webhook_url`: one per
 * workspace, derived from the server secret so it needs no storage (it changes
 * if LUCID_SECRET does).
 */
export function workspaceWebhookSecret(p: Pick<Platform, "config">, workspaceId: string): string {
  return WEBHOOK_SECRET_PREFIX + createHmac("sha256", p.config.secret).update(`webhook-signing:${workspaceId}`).digest().subarray(0, 24).toString("base64");
}

// ── Endpoints ───────────────────────────────────────────────────────────────

export type WebhookEndpointView = Omit<WebhookEndpoint, "secret">;
const endpointView = ({ secret: _secret, ...rest }: WebhookEndpoint): WebhookEndpointView => rest;

/** Adds a workspace endpoint; its signing secret is returned this once (owners can reveal it later). */
export async function createWebhookEndpoint(
  p: Platform,
  workspaceId: string,
  createdById: string | undefined,
  input: unknown,
): Promise<{ endpoint: WebhookEndpointView; secret: string }> {
  const parsed = CreateWebhookEndpointRequest.safeParse(input);
  if (!parsed.success) {
    const fields = fieldErrors(parsed.error);
    throw new AppError("validation_failed", describeFieldErrors(fields), fields);
  }
  await assertWebhookTarget(p, parsed.data.url, "url");
  const secret = newWebhookSecret();
  const endpoint = await p.db.webhookEndpoint.create({
    data: { workspaceId, createdById, url: parsed.data.url, events: [...new Set(parsed.data.events)], secret },
  });
  return { endpoint: endpointView(endpoint), secret };
}

export async function listWebhookEndpoints(p: Platform, workspaceId: string): Promise<WebhookEndpointView[]> {
  const rows = await p.db.webhookEndpoint.findMany({ where: { workspaceId }, orderBy: { createdAt: "desc" } });
  return rows.map(endpointView);
}

async function endpointOf(p: Platform, workspaceId: string, endpointId: string): Promise<WebhookEndpoint> {
  const endpoint = isUuid(endpointId) ? await p.db.webhookEndpoint.findFirst({ where: { id: endpointId, workspaceId } }) : null;
  if (!endpoint) throw notFound("webhook endpoint");
  return endpoint;
}

/** Enables or disables an endpoint; enabling clears a failure-disable and its failure count. */
export async function setWebhookEndpointEnabled(p: Platform, workspaceId: string, endpointId: string, enabled: boolean): Promise<void> {
  await endpointOf(p, workspaceId, endpointId);
  await p.db.webhookEndpoint.update({
    where: { id: endpointId },
    data: enabled ? { enabled, consecutiveFailures: 0, disabledReason: null, disabledAt: null } : { enabled, disabledAt: new Date() },
  });
}

/** Deletes an endpoint with its pending deliveries and attempt history. */
export async function deleteWebhookEndpoint(p: Platform, workspaceId: string, endpointId: string): Promise<void> {
  await endpointOf(p, workspaceId, endpointId);
  await p.db.webhookEndpoint.delete({ where: { id: endpointId } });
}

/** An endpoint's signing secret, for workspace owners only. */
export async function revealWebhookSecret(p: Platform, viewer: { workspaceId: string; role: Role }, endpointId: string): Promise<string> {
  if (viewer.role !== "owner") throw new AppError("forbidden", "Only workspace owners can see webhook signing secrets.");
  return (await endpointOf(p, viewer.workspaceId, endpointId)).secret;
}

/** The newest delivery attempts to one endpoint (default 50), with the event each carried. */
export async function listWebhookAttempts(p: Platform, workspaceId: string, endpointId: string, limit = 50) {
  await endpointOf(p, workspaceId, endpointId);
  return p.db.webhookAttempt.findMany({
    where: { endpointId },
    orderBy: { createdAt: "desc" },
    take: limit,
    include: { delivery: { select: { status: true, event: { select: { id: true, type: true, jobId: true } } } } },
  });
}

// ── Outbox ──────────────────────────────────────────────────────────────────

/** Whether a progress step gets a `generation.progress` event: every few steps, never the last. */
export const isProgressEventStep = (step: number, total: number) => step > 0 && step < total && step % WEBHOOK_PROGRESS_EVERY_STEPS === 0;

/** The Standard Webhooks message id of an event: the same on every retry and to every endpoint. */
export const webhookMessageId = (eventId: string) => `msg_${eventId}`;

/**
 * Records a generation event in the outbox, inside the transaction of the job
 * transition that causes it: one WebhookEvent (the exact body to send) and one
 * pending WebhookDelivery per enabled endpoint subscribed to the type, plus one
 * to the generation's own `webhook_url`. Nothing is written when nobody listens.
 */
export async function recordGenerationEvent(tx: Tx, p: Pick<Platform, "config" | "images">, jobId: string, type: WebhookEventType): Promise<void> {
  const job = await tx.job.findUnique({ where: { id: jobId }, include: { images: { orderBy: { index: "asc" } } } });
  if (!job) return;
  const endpoints = await tx.webhookEndpoint.findMany({ where: { workspaceId: job.workspaceId, enabled: true, events: { has: type } }, select: { id: true, url: true } });
  const ownUrl = (job.request as { webhook_url?: string } | null)?.webhook_url;
  if (endpoints.length === 0 && !ownUrl) return;
  const now = new Date();
  const payload: WebhookEventPayload = { type, timestamp: now.toISOString(), data: await toGeneration(job, generationUrls(p)) };
  const event = await tx.webhookEvent.create({ data: { workspaceId: job.workspaceId, jobId, type, payload: JSON.stringify(payload), createdAt: now } });
  const targets = [...endpoints.map((e) => ({ endpointId: e.id, url: e.url })), ...(ownUrl ? [{ endpointId: null, url: ownUrl }] : [])];
  await tx.webhookDelivery.createMany({ data: targets.map((t) => ({ eventId: event.id, ...t, nextAttemptAt: now, createdAt: now })) });
}

// ── Retries ─────────────────────────────────────────────────────────────────

/** Wait before retry n (after the n-th failed attempt); later retries use the last value. */
export const WEBHOOK_RETRY_DELAYS_MS = [5_000, 30_000, 2 * 60_000, 10 * 60_000, 30 * 60_000, 60 * 60_000, 2 * 3600_000, 4 * 3600_000] as const;
/** A delivery is retried until this long after its event; then it is given up. */
export const WEBHOOK_RETRY_WINDOW_MS = 24 * 3600_000;
/** Consecutive failed attempts after which an endpoint is disabled. */
export const WEBHOOK_DISABLE_AFTER_FAILURES = 20;

export function webhookRetryDelayMs(failedAttempts: number): number {
  return WEBHOOK_RETRY_DELAYS_MS[Math.min(Math.max(failedAttempts, 1), WEBHOOK_RETRY_DELAYS_MS.length) - 1]!;
}

/** When to try again after `failedAttempts` failures, or null once past the 24 h window. */
export function nextWebhookAttemptAt(eventCreatedAt: Date, failedAttempts: number, now: Date): Date | null {
  const next = new Date(now.getTime() + webhookRetryDelayMs(failedAttempts));
  return next.getTime() - eventCreatedAt.getTime() > WEBHOOK_RETRY_WINDOW_MS ? null : next;
}

// ── History ─────────────────────────────────────────────────────────────────

/** How long events are kept, with their deliveries and attempts, once nothing is pending. */
export const WEBHOOK_HISTORY_RETENTION_MS = 30 * 24 * 3600_000;

/** Deletes events older than the retention whose deliveries are all finished (attempts go with them); returns how many. */
export async function pruneWebhookHistory(p: Pick<Platform, "db">, now = new Date()): Promise<number> {
  const r = await p.db.webhookEvent.deleteMany({
    where: { createdAt: { lt: new Date(now.getTime() - WEBHOOK_HISTORY_RETENTION_MS) }, deliveries: { none: { status: "pending" } } },
  });
  return r.count;
}
