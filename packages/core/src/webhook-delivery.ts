import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { LookupFunction } from "node:net";
import { Webhook } from "standardwebhooks";
import type { WebhookDelivery, WebhookEndpoint, WebhookEvent } from "@lucid/db";
import { sendMail } from "./mail.ts";
import type { Platform } from "./platform.ts";
import {
  WEBHOOK_DISABLE_AFTER_FAILURES,
  WebhookTargetError,
  checkWebhookTarget,
  isAllowedWebhookAddress,
  nextWebhookAttemptAt,
  webhookMessageId,
  workspaceWebhookSecret,
} from "./webhooks.ts";

// Dispatcher transactions are short, but must not give up on a busy database (Prisma's default start wait is 2 s).
const TX_OPTIONS = { maxWait: 10_000, timeout: 20_000 };

export type DueDelivery = WebhookDelivery & { event: WebhookEvent; endpoint: WebhookEndpoint | null };

export interface WebhookSendResult {
  /** The receiver's HTTP status; undefined when no answer came. */
  statusCode?: number;
  error?: string;
  durationMs: number;
}

/**
 * Takes up to `limit` due deliveries for this dispatcher: `FOR UPDATE SKIP
 * LOCKED` so concurrent dispatchers (several workers) never take the same row,
 * and their `nextAttemptAt` is pushed `leaseMs` ahead as a lease, so a
 * dispatcher that dies mid-send leaves them due again later (at least once).
 */
export async function claimDueWebhookDeliveries(p: Platform, limit: number, leaseMs: number): Promise<DueDelivery[]> {
  const now = new Date();
  const ids = await p.db.$transaction(async (tx) => {
    // Timestamps are stored as UTC wall-clock `timestamp(3)`: compare against one.
    const rows = await tx.$queryRaw<Array<{ id: string }>>`
      SELECT id FROM "WebhookDelivery"
      WHERE status = 'pending' AND "nextAttemptAt" <= ${now.toISOString()}::timestamptz AT TIME ZONE 'UTC'
      ORDER BY "nextAttemptAt", "createdAt"
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED`;
    const taken = rows.map((r) => r.id);
    if (taken.length) {
      await tx.webhookDelivery.updateMany({ where: { id: { in: taken } }, data: { nextAttemptAt: new Date(now.getTime() + leaseMs) } });
    }
    return taken;
  }, TX_OPTIONS);
  if (ids.length === 0) return [];
  return p.db.webhookDelivery.findMany({
    where: { id: { in: ids } },
    include: { event: true, endpoint: true },
    orderBy: [{ createdAt: "asc" }],
  });
}

/** A DNS lookup for the HTTP client that refuses private addresses, so a rebinding host cannot slip past the check. */
function guardedLookup(cidrs: readonly string[]): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
      if (err) return callback(err, "", 0);
      const refused = addresses.find((a) => !isAllowedWebhookAddress(a.address, cidrs));
      if (refused) return callback(new WebhookTargetError(`${hostname} resolves to ${refused.address}, a private address`) as NodeJS.ErrnoException, "", 0);
      if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

export interface SendOptions {
  /** Address ranges allowed despite being private (config.webhooks.allowedCidrs). */
  allowedCidrs: readonly string[];
  timeoutMs?: number;
}

/**
 * POSTs one signed event (Standard Webhooks: `webhook-id`, `webhook-timestamp`,
 * `webhook-signature`). Checks the target again at send time (DNS
 * re-resolution, and in the connection's own lookup); follows no redirects.
 * A 2xx answer is a success.
 */
export async function sendWebhook(
  target: { url: string; secret: string; messageId: string; body: string },
  opts: SendOptions,
): Promise<WebhookSendResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  try {
    await checkWebhookTarget(target.url, opts.allowedCidrs);
  } catch (err) {
    return { error: `refused target: ${(err as Error).message}`, durationMs: elapsed() };
  }
  const timestamp = new Date();
  const signature = new Webhook(target.secret).sign(target.messageId, timestamp, target.body);
  const url = new URL(target.url);
  const send = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<WebhookSendResult>((settle) => {
    let deadline: NodeJS.Timeout | undefined;
    const resolve = (result: WebhookSendResult) => {
      clearTimeout(deadline);
      settle(result);
    };
    const req = send(
      url,
      {
        method: "POST",
        // A fresh connection per delivery: no stale keep-alive socket to a receiver that has since closed it.
        agent: false,
        lookup: guardedLookup(opts.allowedCidrs),
        headers: {
          "content-type": "application/json",
          "user-agent": "Lucid-Webhooks/1",
          "webhook-id": target.messageId,
          "webhook-timestamp": String(Math.floor(timestamp.getTime() / 1000)),
          "webhook-signature": signature,
          "content-length": Buffer.byteLength(target.body),
        },
      },
      (res) => {
        // Only the status matters; drain the body so the socket is freed.
        res.resume();
        res.on("end", () => resolve({ statusCode: res.statusCode, ...(isSuccess(res.statusCode) ? {} : { error: `HTTP ${res.statusCode}` }), durationMs: elapsed() }));
        res.on("error", (err) => resolve({ statusCode: res.statusCode, error: err.message, durationMs: elapsed() }));
      },
    );
    // One deadline for the whole exchange, so a receiver that trickles its answer cannot hold a delivery.
    deadline = setTimeout(() => req.destroy(new Error(`no answer within ${opts.timeoutMs ?? 15_000} ms`)), opts.timeoutMs ?? 15_000);
    req.on("error", (err) => resolve({ error: err.message || String(err), durationMs: elapsed() }));
    req.end(target.body);
  });
}

const isSuccess = (status: number | undefined) => status !== undefined && status >= 200 && status < 300;

/**
 * Records one attempt and its consequence: success ends the delivery and
 * resets the endpoint's failure count; a failure schedules the next retry
 * (backoff, 24 h window) and counts against the endpoint, which is disabled
 * after WEBHOOK_DISABLE_AFTER_FAILURES failures in a row.
 */
export async function recordWebhookAttempt(p: Platform, delivery: DueDelivery, result: WebhookSendResult, now = new Date()): Promise<void> {
  const ok = isSuccess(result.statusCode);
  const attempt = delivery.attemptCount + 1;
  const disabled = await p.db.$transaction(async (tx): Promise<{ workspaceId: string; url: string; reason: string } | null> => {
    await tx.webhookAttempt.create({
      data: { deliveryId: delivery.id, endpointId: delivery.endpointId, attempt, statusCode: result.statusCode, error: result.error?.slice(0, 500), durationMs: result.durationMs },
    });
    const next = ok ? null : nextWebhookAttemptAt(delivery.event.createdAt, attempt, now);
    await tx.webhookDelivery.updateMany({
      where: { id: delivery.id, status: "pending" },
      data: ok
        ? { status: "succeeded", attemptCount: attempt, finishedAt: now, lastError: null }
        : next
          ? { attemptCount: attempt, nextAttemptAt: next, lastError: result.error }
          : { status: "failed", attemptCount: attempt, finishedAt: now, lastError: `${result.error}; gave up after 24 hours` },
    });
    if (!delivery.endpointId) return null;
    if (ok) {
      await tx.webhookEndpoint.update({ where: { id: delivery.endpointId }, data: { consecutiveFailures: 0 } });
      return null;
    }
    const endpoint = await tx.webhookEndpoint.update({ where: { id: delivery.endpointId }, data: { consecutiveFailures: { increment: 1 } } });
    if (endpoint.enabled && endpoint.consecutiveFailures >= WEBHOOK_DISABLE_AFTER_FAILURES) {
      const reason = `Disabled after ${endpoint.consecutiveFailures} failed deliveries in a row (last: ${result.error ?? `HTTP ${result.statusCode}`}).`;
      await tx.webhookEndpoint.update({ where: { id: endpoint.id }, data: { enabled: false, disabledAt: now, disabledReason: reason } });
      return { workspaceId: endpoint.workspaceId, url: endpoint.url, reason };
    }
    return null;
  }, TX_OPTIONS);
  if (disabled) await tellOwnersEndpointDisabled(p, disabled);
}

/** Emails the workspace's owners that an endpoint was switched off (best effort: the banner in settings stays). */
async function tellOwnersEndpointDisabled(p: Platform, e: { workspaceId: string; url: string; reason: string }): Promise<void> {
  const owners = await p.db.membership.findMany({ where: { workspaceId: e.workspaceId, role: "owner" }, include: { user: { select: { email: true } } } });
  await Promise.allSettled(
    owners.map((o) =>
      sendMail(p, {
        to: o.user.email,
        subject: "Lucid: a webhook endpoint was disabled",
        text: `Your webhook endpoint ${e.url} was disabled.\n\n${e.reason}\n\nFix the receiver, then enable it again under Settings → Webhooks (${p.config.publicUrl}/settings/webhooks).`,
      }),
    ),
  );
}

export interface DeliverOptions {
  /** Most deliveries taken per call. */
  limit?: number;
  /** How long a taken delivery is hidden from other dispatchers while it is sent. */
  leaseMs?: number;
  timeoutMs?: number;
  /** Told about a delivery whose attempt could not be recorded (it is sent again once its lease ends). */
  onError?: (err: unknown, deliveryId: string) => void;
}

/**
 * One dispatcher pass: takes due deliveries, sends them concurrently, records
 * every attempt. Deliveries to a disabled or deleted endpoint end as failed
 * without an attempt. Returns how many deliveries it took.
 */
export async function deliverDueWebhooks(p: Platform, opts: DeliverOptions = {}): Promise<number> {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const due = await claimDueWebhookDeliveries(p, opts.limit ?? 20, opts.leaseMs ?? timeoutMs + 30_000);
  const allowedCidrs = p.config.webhooks?.allowedCidrs ?? [];
  const outcomes = await Promise.allSettled(
    due.map(async (delivery) => {
      if (delivery.endpointId && !delivery.endpoint?.enabled) {
        await p.db.webhookDelivery.updateMany({
          where: { id: delivery.id, status: "pending" },
          data: { status: "failed", finishedAt: new Date(), lastError: "endpoint disabled" },
        });
        return;
      }
      const secret = delivery.endpoint?.secret ?? workspaceWebhookSecret(p, delivery.event.workspaceId);
      const result = await sendWebhook(
        { url: delivery.url, secret, messageId: webhookMessageId(delivery.event.id), body: delivery.event.payload },
        { allowedCidrs, timeoutMs },
      );
      await recordWebhookAttempt(p, delivery, result);
    }),
  );
  outcomes.forEach((o, i) => {
    if (o.status === "rejected") opts.onError?.(o.reason, due[i]!.id);
  });
  return due.length;
}
