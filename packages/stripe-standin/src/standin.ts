import { createHash } from "node:crypto";
import { type IncomingMessage, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { type CheckoutPayment, TestModeAccount } from "./account.ts";
import { handleApiRequest } from "./api.ts";
import { checkoutPage, notFoundPage, receiptPage, sessionClosedPage, successRedirectUrl } from "./checkout-page.ts";
import { StripeApiError, authenticationFailed } from "./errors.ts";
import { newId, unixNow } from "./ids.ts";
import type { Charge, CheckoutSession, Customer, LineItem, PaymentIntent, Refund, StripeEvent, StripeObject } from "./objects.ts";
import { type Params, decodeStripeParams } from "./params.ts";
import { type DeliverOptions, type SignOptions, type WebhookDelivery, WebhookDispatcher, type WebhookMode, serializeEvent } from "./webhooks.ts";

export interface StripeStandinOptions {
  /** Port to listen on; 0 or absent picks a free one. */
  port?: number;
  /** Interface to listen on; default 127.0.0.1. */
  host?: string;
  /** Base URL browsers use to reach the hosted pages, when it differs from `http://host:port`. */
  publicUrl?: string;
  /** Where events are POSTed. Can be set later with `setWebhookUrl` (e.g. once the app's port is known). */
  webhookUrl?: string;
  /** The endpoint's signing secret (`whsec_…`), as given to the app for `constructEvent`. */
  webhookSecret: string;
  /** The only API key accepted. Absent: any `sk_test_…`/`rk_test_…` key is. */
  secretKey?: string;
  /** "immediate" (default): events are delivered before the checkout redirect. "manual": queued until `deliverPending`. */
  webhookMode?: WebhookMode;
  /** Event types the endpoint subscribes to, as on Stripe's dashboard; default ["*"]. */
  enabledEvents?: string[];
  /** Per-delivery timeout; default 10 s. */
  webhookTimeoutMs?: number;
  /** Where failures (and, with `verbose`, every request) are logged; default stderr. */
  log?: (message: string) => void;
  verbose?: boolean;
}

export interface StripeStandin {
  /** API base for the app's STRIPE_API_BASE, e.g. `http://127.0.0.1:12111`. */
  readonly url: string;
  readonly port: number;
  /** The key to give the app (the configured one, or `sk_test_standin`). */
  readonly secretKey: string;
  readonly webhookSecret: string;
  /** `new Stripe(key, standin.clientConfig)` talks to the stand-in. */
  readonly clientConfig: { host: string; port: number; protocol: "http" };
  /** Environment for the app: STRIPE_API_BASE, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET. */
  readonly env: Record<"STRIPE_API_BASE" | "STRIPE_SECRET_KEY" | "STRIPE_WEBHOOK_SECRET", string>;

  readonly customers: { get(id: string): Customer | undefined; list(): Customer[] };
  readonly sessions: {
    get(id: string): CheckoutSession | undefined;
    list(): CheckoutSession[];
    lineItems(id: string): LineItem[];
    /** Same as pressing "Pay" on the hosted page, without a browser. */
    pay(id: string, payer?: { email?: string; name?: string }): Promise<CheckoutPayment>;
    /** Pays with a delayed-notification method: completed but unpaid until `settleAsync`. */
    payAsync(id: string, payer?: { email?: string; name?: string }): Promise<{ session: CheckoutSession; paymentIntent: PaymentIntent; events: StripeEvent[] }>;
    /** The async payment clears (`checkout.session.async_payment_succeeded`) or fails (`…_failed`). */
    settleAsync(id: string, outcome: "succeeded" | "failed"): Promise<{ session: CheckoutSession; charge?: Charge; events: StripeEvent[] }>;
    expire(id: string): Promise<CheckoutSession>;
  };
  readonly refunds: { get(id: string): Refund | undefined; list(chargeId?: string): Refund[] };
  /** Refunds a charge (all that is left unless `amount`), emitting `charge.refunded`, as the dashboard does. */
  refund(chargeId: string, opts?: { amount?: number }): Promise<{ refund: Refund; charge: Charge; event: StripeEvent }>;
  readonly paymentIntents: { get(id: string): PaymentIntent | undefined };
  readonly charges: { get(id: string): Charge | undefined };
  readonly events: { get(id: string): StripeEvent | undefined; list(type?: string): StripeEvent[] };

  /** Every automatic delivery and resend, in order, with the endpoint's HTTP status. */
  readonly deliveries: readonly WebhookDelivery[];
  /** Events waiting in manual mode (or created while no webhook URL was set). */
  readonly pendingEvents: readonly StripeEvent[];
  webhookMode: WebhookMode;
  setWebhookUrl(url: string | undefined): void;
  deliverPending(): Promise<WebhookDelivery[]>;
  /** Delivers a recorded event again, same id and body, freshly signed (duplicate-delivery tests). */
  resend(eventId: string): Promise<WebhookDelivery>;
  /** POSTs any payload to the webhook URL, signed with the endpoint secret unless `opts` say otherwise. Not recorded. */
  deliver(event: object | string, opts?: DeliverOptions): Promise<Response>;
  /** A `Stripe-Signature` header value for `payload`. */
  signPayload(payload: string, opts?: SignOptions): string;
  /** A well-formed event around `object`, neither recorded nor sent (feed it to `deliver`). */
  makeEvent<T extends object>(type: string, object: T): StripeEvent<T>;
  /** Records an event and hands it to the webhook as Stripe would (the hook for refunds and other flows). */
  emitEvent(type: string, object: StripeObject): Promise<{ event: StripeEvent; delivery: WebhookDelivery | undefined }>;
  /** Forgets all objects, events and deliveries. */
  reset(): void;
  stop(): Promise<void>;
}

const DEFAULT_SECRET_KEY = "sk_test_standin";

export async function startStripeStandin(opts: StripeStandinOptions): Promise<StripeStandin> {
  if (!opts.webhookSecret) throw new Error("stripe-standin: webhookSecret is required");
  const host = opts.host ?? "127.0.0.1";
  const log = opts.log ?? ((message: string) => console.error(`[stripe-standin] ${message}`));
  const webhooks = new WebhookDispatcher({
    url: opts.webhookUrl,
    secret: opts.webhookSecret,
    mode: opts.webhookMode ?? "immediate",
    enabledEvents: opts.enabledEvents ?? ["*"],
    timeoutMs: opts.webhookTimeoutMs ?? 10_000,
    log,
  });
  // The account needs the public URL, which needs the port: build it once listening.
  let account!: TestModeAccount;
  const idempotency = new IdempotencyCache();
  const server = createServer((req, res) => {
    handleHttp(req, res).catch((error: unknown) => {
      log(`internal error on ${req.method} ${req.url}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (!res.headersSent) sendJson(res, 500, new StripeApiError(500, "api_error", "Internal stand-in error").toBody(newId("req", 14)));
      else res.end();
    });
  });

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://standin.invalid");
    const method = req.method ?? "GET";
    const body = await readBody(req);
    if (opts.verbose) log(`${method} ${url.pathname}`);
    if (url.pathname.startsWith("/v1/")) return handleApi(req, res, method, url, body);

    const checkout = /^\/c\/pay\/([^/]+)$/.exec(url.pathname);
    if (checkout && (method === "GET" || method === "POST")) {
      return handleHostedCheckout(res, method, decodeURIComponent(checkout[1] ?? ""), body);
    }
    const receipt = /^\/receipts\/([^/]+)$/.exec(url.pathname);
    const charge = receipt && method === "GET" ? account.store.find("charge", decodeURIComponent(receipt[1] ?? "")) : undefined;
    if (charge) return sendHtml(res, 200, receiptPage(charge));
    if (url.pathname.startsWith("/_standin/")) return handleControl(res, method, url.pathname);
    return sendHtml(res, 404, notFoundPage());
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, method: string, url: URL, body: string): Promise<void> {
    const requestId = newId("req", 14);
    const headers = { "request-id": requestId, "stripe-version": header(req, "stripe-version") ?? account.apiVersion };
    try {
      const apiKey = authenticate(header(req, "authorization"), opts.secretKey);
      const contentType = header(req, "content-type") ?? "";
      if (body && !contentType.startsWith("application/x-www-form-urlencoded")) {
        throw new StripeApiError(400, "invalid_request_error", "Invalid request: Stripe's v1 API takes application/x-www-form-urlencoded bodies.");
      }
      const params: Params = { ...decodeStripeParams(url.search.slice(1)), ...decodeStripeParams(body) };
      const idempotencyKey = method === "POST" ? header(req, "idempotency-key") : undefined;
      const fingerprint = `${method} ${url.pathname} ${createHash("sha256").update(body).digest("hex")}`;
      const replay = idempotencyKey ? idempotency.lookup(apiKey, idempotencyKey, fingerprint) : undefined;
      if (replay) return sendJson(res, replay.status, replay.body, { ...headers, "idempotent-replayed": "true" });
      let status = 200;
      let result: unknown;
      try {
        result = await handleApiRequest(account, method, url.pathname, params);
      } catch (error) {
        if (!(error instanceof StripeApiError)) throw error;
        status = error.statusCode;
        result = error.toBody(requestId);
      }
      if (idempotencyKey) idempotency.store(apiKey, idempotencyKey, fingerprint, status, result);
      sendJson(res, status, result, headers);
    } catch (error) {
      if (!(error instanceof StripeApiError)) throw error;
      sendJson(res, error.statusCode, error.toBody(requestId), headers);
    }
  }

  async function handleHostedCheckout(res: ServerResponse, method: string, sessionId: string, body: string): Promise<void> {
    const session = account.store.find("checkout.session", sessionId);
    if (!session) return sendHtml(res, 404, notFoundPage());
    if (method === "GET") {
      if (session.status !== "open") return sendHtml(res, 200, sessionClosedPage(session));
      const customer = session.customer ? account.store.find("customer", session.customer) : undefined;
      return sendHtml(res, 200, checkoutPage(session, account.store.lineItems(session.id), session.customer_email ?? customer?.email ?? null));
    }
    // A second submit (double click, back button) must not pay twice.
    if (session.status !== "open") return sendHtml(res, 409, sessionClosedPage(session));
    const form = decodeStripeParams(body);
    const email = typeof form.email === "string" ? form.email : undefined;
    // Webhook failures are recorded in `deliveries` and logged by the dispatcher; the redirect happens regardless.
    const payment = await account.payCheckoutSession(session.id, { email });
    res.writeHead(303, { location: successRedirectUrl(payment.session), "cache-control": "no-store" });
    res.end();
  }

  /** For a stand-in running in another process (the CLI beside `npm start`, e2e runs). */
  async function handleControl(res: ServerResponse, method: string, path: string): Promise<void> {
    if (method === "GET" && path === "/_standin/events") return sendJson(res, 200, { events: account.store.events() });
    if (method === "GET" && path === "/_standin/deliveries") return sendJson(res, 200, { deliveries: webhooks.deliveries });
    if (method === "POST" && path === "/_standin/deliver-pending") return sendJson(res, 200, { deliveries: await webhooks.flush() });
    const refund = /^\/_standin\/charges\/([^/]+)\/refund$/.exec(path);
    if (method === "POST" && refund) {
      const charge = account.store.find("charge", decodeURIComponent(refund[1] ?? ""));
      if (!charge) return sendJson(res, 404, { error: "no such charge" });
      return sendJson(res, 200, await account.refundCharge(charge.id));
    }
    const resend = /^\/_standin\/events\/([^/]+)\/resend$/.exec(path);
    if (method === "POST" && resend) {
      const event = account.store.event(decodeURIComponent(resend[1] ?? ""));
      if (!event) return sendJson(res, 404, { error: "no such event" });
      return sendJson(res, 200, { delivery: await webhooks.send(event) });
    }
    return sendJson(res, 404, { error: "unknown control endpoint" });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  account = new TestModeAccount(webhooks, (opts.publicUrl ?? url).replace(/\/$/, ""));
  const secretKey = opts.secretKey ?? DEFAULT_SECRET_KEY;
  const snapshot = <T>(value: T | undefined): T | undefined => (value === undefined ? undefined : structuredClone(value));

  return {
    url,
    port,
    secretKey,
    webhookSecret: opts.webhookSecret,
    clientConfig: { host, port, protocol: "http" },
    env: { STRIPE_API_BASE: url, STRIPE_SECRET_KEY: secretKey, STRIPE_WEBHOOK_SECRET: opts.webhookSecret },
    customers: {
      get: (id) => snapshot(account.store.find("customer", id)),
      list: () => structuredClone(account.store.all("customer")),
    },
    sessions: {
      get: (id) => snapshot(account.store.find("checkout.session", id)),
      list: () => structuredClone(account.store.all("checkout.session")),
      lineItems: (id) => structuredClone(account.store.lineItems(id)),
      pay: (id, payer) => account.payCheckoutSession(id, payer),
      payAsync: (id, payer) => account.payCheckoutSessionAsync(id, payer),
      settleAsync: (id, outcome) => account.settleAsyncPayment(id, outcome),
      expire: (id) => account.expireCheckoutSession(id),
    },
    refunds: {
      get: (id) => snapshot(account.store.find("refund", id)),
      list: (chargeId) => structuredClone(account.store.all("refund").filter((r) => chargeId === undefined || r.charge === chargeId)),
    },
    refund: (chargeId, refundOpts) => account.refundCharge(chargeId, refundOpts),
    paymentIntents: { get: (id) => snapshot(account.store.find("payment_intent", id)) },
    charges: { get: (id) => snapshot(account.store.find("charge", id)) },
    events: {
      get: (id) => snapshot(account.store.event(id)),
      list: (type) => structuredClone(account.store.events().filter((e) => type === undefined || e.type === type)),
    },
    get deliveries() {
      return [...webhooks.deliveries];
    },
    get pendingEvents() {
      return [...webhooks.pending];
    },
    get webhookMode() {
      return webhooks.mode;
    },
    set webhookMode(mode: WebhookMode) {
      webhooks.mode = mode;
    },
    setWebhookUrl(webhookUrl) {
      webhooks.url = webhookUrl;
    },
    deliverPending: () => webhooks.flush(),
    async resend(eventId) {
      const event = account.store.event(eventId);
      if (!event) throw new Error(`stripe-standin: no event ${eventId}`);
      return webhooks.send(event);
    },
    deliver: (event, deliverOpts) => webhooks.post(typeof event === "string" ? event : serializeEvent(event), deliverOpts ?? {}),
    signPayload: (payload, signOpts) => webhooks.sign(payload, signOpts),
    makeEvent: (type, object) => ({
      id: newId("evt", 24),
      object: "event",
      api_version: account.apiVersion,
      created: unixNow(),
      data: { object: structuredClone(object) },
      livemode: false,
      pending_webhooks: 1,
      request: { id: null, idempotency_key: null },
      type,
    }),
    emitEvent: (type, object) => account.emitEvent(type, object),
    reset: () => {
      account.reset();
      idempotency.clear();
    },
    async stop() {
      await webhooks.idle();
      await new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // The Stripe client keeps connections alive; without this, close() waits for them to time out.
        server.closeAllConnections();
      });
    },
  };
}

/** Stripe takes the key as a Bearer token, or as the Basic auth user name. Returns the key. */
function authenticate(authorization: string | undefined, requiredKey: string | undefined): string {
  if (!authorization) {
    throw authenticationFailed(
      "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
      "api_key_missing",
    );
  }
  const [scheme, credentials = ""] = authorization.split(" ", 2);
  const key =
    scheme?.toLowerCase() === "bearer"
      ? credentials.trim()
      : scheme?.toLowerCase() === "basic"
        ? (Buffer.from(credentials, "base64").toString("utf8").split(":")[0] ?? "")
        : "";
  const masked = key.length > 12 ? `${key.slice(0, 8)}${"*".repeat(Math.min(key.length - 12, 20))}${key.slice(-4)}` : key;
  const valid = requiredKey ? key === requiredKey : /^(sk|rk)_test_[A-Za-z0-9_]+$/.test(key);
  if (!valid) throw authenticationFailed(`Invalid API Key provided: ${masked}`, "api_key_invalid");
  return key;
}

/** Stripe replays the stored response for a repeated Idempotency-Key, and refuses one reused with other parameters. */
class IdempotencyCache {
  private readonly responses = new Map<string, { fingerprint: string; status: number; body: unknown }>();

  lookup(apiKey: string, key: string, fingerprint: string): { status: number; body: unknown } | undefined {
    const hit = this.responses.get(`${apiKey}\n${key}`);
    if (hit && hit.fingerprint !== fingerprint) {
      throw new StripeApiError(
        400,
        "idempotency_error",
        `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
      );
    }
    return hit;
  }

  store(apiKey: string, key: string, fingerprint: string, status: number, body: unknown): void {
    if (status < 500) this.responses.set(`${apiKey}\n${key}`, { fingerprint, status, body });
  }

  clear(): void {
    this.responses.clear();
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "content-type": "application/json", "cache-control": "no-cache, no-store", ...headers });
  res.end(JSON.stringify(body, null, 2));
}

function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
  res.end(html);
}
