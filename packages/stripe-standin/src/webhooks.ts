import Stripe from "stripe";
import type { StripeEvent } from "./objects.ts";

export type WebhookMode = "immediate" | "manual";

export interface WebhookDelivery {
  eventId: string;
  eventType: string;
  /** 1 for the first delivery of an event, 2 for its first resend, … */
  attempt: number;
  url: string;
  /** The endpoint's HTTP status; null when the request itself failed (connection refused, timeout). */
  status: number | null;
  /** Stripe counts only 2xx as delivered. */
  ok: boolean;
  error?: string;
  /** The endpoint's response body (first 2,000 characters), for debugging a failing handler. */
  responseBody: string;
  deliveredAt: Date;
}

export interface SignOptions {
  secret?: string;
  /** Unix seconds; defaults to now. An old timestamp makes `constructEvent` reject it as a replay. */
  timestamp?: number;
}

export interface DeliverOptions extends SignOptions {
  /** Send exactly this `Stripe-Signature` header (null: send none) instead of signing. */
  signature?: string | null;
  /** Defaults to the stand-in's webhook URL. */
  url?: string;
}

export interface WebhookDispatcherOptions {
  url?: string;
  secret: string;
  mode: WebhookMode;
  enabledEvents: readonly string[];
  timeoutMs: number;
  log: (message: string) => void;
}

/** Stripe serialises event payloads as pretty-printed JSON; handlers must verify the raw bytes. */
export function serializeEvent(event: object): string {
  return JSON.stringify(event, null, 2);
}

/**
 * Delivers events the way Stripe's webhook endpoints do: one POST per event, JSON body,
 * `Stripe-Signature: t=…,v1=…` (HMAC-SHA256 of `${t}.${body}` with the endpoint secret, computed by
 * the real client's own `generateTestHeaderString`), 2xx means delivered, redirects are not followed.
 */
export class WebhookDispatcher {
  url: string | undefined;
  mode: WebhookMode;
  readonly deliveries: WebhookDelivery[] = [];
  /** Events created while in manual mode (or with no URL), waiting for `flush`. */
  readonly pending: StripeEvent[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(private readonly options: WebhookDispatcherOptions) {
    this.url = options.url;
    this.mode = options.mode;
  }

  get secret(): string {
    return this.options.secret;
  }

  wants(eventType: string): boolean {
    const enabled = this.options.enabledEvents;
    return enabled.includes("*") || enabled.includes(eventType);
  }

  sign(payload: string, opts: SignOptions = {}): string {
    return Stripe.webhooks.generateTestHeaderString({
      payload,
      secret: opts.secret ?? this.options.secret,
      ...(opts.timestamp === undefined ? {} : { timestamp: opts.timestamp }),
    });
  }

  /** Called for every new event: sent now in immediate mode, queued in manual mode or without a URL. */
  async dispatch(event: StripeEvent): Promise<WebhookDelivery | undefined> {
    if (!this.wants(event.type)) return undefined;
    if (this.mode === "manual" || !this.url) {
      this.pending.push(event);
      return undefined;
    }
    return this.send(event);
  }

  async flush(): Promise<WebhookDelivery[]> {
    const events = this.pending.splice(0);
    const results: WebhookDelivery[] = [];
    for (const event of events) results.push(await this.send(event));
    return results;
  }

  /** Sends an event (again), signed with a fresh timestamp as Stripe does on retries. */
  async send(event: StripeEvent): Promise<WebhookDelivery> {
    const url = this.url;
    const attempt = this.deliveries.filter((d) => d.eventId === event.id).length + 1;
    const base = { eventId: event.id, eventType: event.type, attempt, url: url ?? "", deliveredAt: new Date() };
    if (!url) {
      const delivery = { ...base, status: null, ok: false, error: "no webhook URL configured", responseBody: "" };
      this.deliveries.push(delivery);
      return delivery;
    }
    let delivery: WebhookDelivery;
    try {
      const response = await this.post(serializeEvent(event), {});
      const responseBody = (await response.text()).slice(0, 2000);
      delivery = { ...base, status: response.status, ok: response.ok, responseBody };
      if (!response.ok) this.options.log(`webhook ${event.type} ${event.id} → ${url}: HTTP ${response.status} ${responseBody.slice(0, 200)}`);
    } catch (error) {
      const message = error instanceof Error ? `${error.message}${error.cause ? ` (${String(error.cause)})` : ""}` : String(error);
      delivery = { ...base, status: null, ok: false, error: message, responseBody: "" };
      this.options.log(`webhook ${event.type} ${event.id} → ${url} failed: ${message}`);
    }
    this.deliveries.push(delivery);
    return delivery;
  }

  /** One raw POST to the endpoint; the building block for deliberately odd deliveries in tests. */
  async post(payload: string, opts: DeliverOptions): Promise<Response> {
    const url = opts.url ?? this.url;
    if (!url) throw new Error("stripe-standin: no webhook URL configured (pass webhookUrl or call setWebhookUrl)");
    const signature = opts.signature === undefined ? this.sign(payload, opts) : opts.signature;
    const headers: Record<string, string> = {
      "content-type": "application/json; charset=utf-8",
      "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    };
    if (signature !== null) headers["stripe-signature"] = signature;
    const request = fetch(url, {
      method: "POST",
      headers,
      body: payload,
      redirect: "manual",
      signal: AbortSignal.timeout(this.options.timeoutMs),
    });
    this.inFlight.add(request);
    try {
      return await request;
    } finally {
      this.inFlight.delete(request);
    }
  }

  async idle(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }
}
