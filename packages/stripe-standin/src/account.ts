import Stripe from "stripe";
import { invalidParam, noSuchResource } from "./errors.ts";
import { newId, unixNow } from "./ids.ts";
import type { CheckoutSession, Charge, Customer, LineItem, PaymentIntent, Refund, StripeEvent, StripeObject } from "./objects.ts";
import type { Metadata } from "./params.ts";
import { StripeStore } from "./store.ts";
import type { WebhookDelivery, WebhookDispatcher } from "./webhooks.ts";

export interface NewCustomer {
  email?: string;
  name?: string;
  description?: string;
  phone?: string;
  metadata: Metadata;
}

export interface NewLineItem {
  productName: string;
  productDescription?: string;
  currency: string;
  unitAmount: number;
  quantity: number;
}

export interface NewCheckoutSession {
  customer?: string;
  customerEmail?: string;
  lineItems: NewLineItem[];
  successUrl: string;
  cancelUrl?: string;
  clientReferenceId?: string;
  metadata: Metadata;
  paymentIntentMetadata: Metadata;
  expiresAt?: number;
  locale?: string;
  submitType?: string;
}

export interface CheckoutPayment {
  session: CheckoutSession;
  paymentIntent: PaymentIntent;
  charge: Charge;
  events: StripeEvent[];
  /** Deliveries made before returning (immediate mode); empty in manual mode. */
  deliveries: WebhookDelivery[];
}

export interface EmittedEvent {
  event: StripeEvent;
  delivery: WebhookDelivery | undefined;
}

const SESSION_LIFETIME_S = 24 * 60 * 60;

/**
 * One Stripe account in test mode: its objects, the state changes a payment makes to them, and the
 * events those changes emit to its webhook endpoint. The HTTP layers (REST API, hosted checkout page)
 * only translate to and from these operations.
 */
export class TestModeAccount {
  readonly store = new StripeStore();
  /** `payment_intent_data[metadata]`, kept until the PaymentIntent exists. */
  private readonly paymentIntentMetadata = new Map<string, Metadata>();

  constructor(
    readonly webhooks: WebhookDispatcher,
    /** Base URL of the hosted pages (checkout, receipts) as a browser reaches them. */
    readonly publicUrl: string,
    readonly apiVersion: string = Stripe.API_VERSION,
  ) {}

  createCustomer(input: NewCustomer): Customer {
    return this.store.put<Customer>({
      id: newId("cus", 14),
      object: "customer",
      created: unixNow(),
      description: input.description ?? null,
      email: input.email ?? null,
      livemode: false,
      metadata: input.metadata,
      name: input.name ?? null,
      phone: input.phone ?? null,
    });
  }

  createCheckoutSession(input: NewCheckoutSession): CheckoutSession {
    if (input.customer && !this.store.find("customer", input.customer)) {
      throw noSuchResource("customer", input.customer, "customer");
    }
    if (input.customer && input.customerEmail) {
      throw invalidParam("customer_email", "You may only specify one of these parameters: customer, customer_email.", "parameters_exclusive");
    }
    const currencies = new Set(input.lineItems.map((item) => item.currency));
    if (currencies.size !== 1) throw invalidParam("line_items", "All line items must use the same currency.");
    const [currency] = currencies;
    const created = unixNow();
    const id = newId("cs_test", 58);
    const lineItems = input.lineItems.map((item): LineItem => {
      const amount = item.unitAmount * item.quantity;
      return {
        id: newId("li", 24),
        object: "item",
        amount_discount: 0,
        amount_subtotal: amount,
        amount_tax: 0,
        amount_total: amount,
        currency: item.currency,
        description: item.productName,
        price: {
          id: newId("price", 24),
          object: "price",
          active: false,
          billing_scheme: "per_unit",
          created,
          currency: item.currency,
          livemode: false,
          metadata: {},
          product: newId("prod", 14),
          type: "one_time",
          unit_amount: item.unitAmount,
        },
        quantity: item.quantity,
      };
    });
    const total = lineItems.reduce((sum, item) => sum + item.amount_total, 0);
    this.store.setLineItems(id, lineItems);
    this.paymentIntentMetadata.set(id, input.paymentIntentMetadata);
    return this.store.put<CheckoutSession>({
      id,
      object: "checkout.session",
      amount_subtotal: total,
      amount_total: total,
      cancel_url: input.cancelUrl ?? null,
      client_reference_id: input.clientReferenceId ?? null,
      created,
      currency: currency ?? "usd",
      customer: input.customer ?? null,
      customer_details: null,
      customer_email: input.customerEmail ?? null,
      expires_at: input.expiresAt ?? created + SESSION_LIFETIME_S,
      livemode: false,
      locale: input.locale ?? null,
      metadata: input.metadata,
      mode: "payment",
      // Since API version 2022-08-01 the PaymentIntent is created only when the customer pays.
      payment_intent: null,
      payment_method_types: ["card"],
      payment_status: "unpaid",
      status: "open",
      submit_type: input.submitType ?? null,
      success_url: input.successUrl,
      ui_mode: "hosted",
      url: `${this.publicUrl}/c/pay/${id}`,
    });
  }

  checkoutSession(id: string): CheckoutSession {
    const session = this.store.find("checkout.session", id);
    if (!session) throw noSuchResource("checkout.session", id);
    return session;
  }

  /**
   * What pressing "Pay" does: a succeeded PaymentIntent and Charge, the session complete and paid,
   * and the events Stripe emits for it (charge.succeeded, payment_intent.succeeded,
   * checkout.session.completed), delivered before returning unless the webhook is in manual mode.
   */
  async payCheckoutSession(id: string, payer: { email?: string; name?: string } = {}): Promise<CheckoutPayment> {
    const session = this.checkoutSession(id);
    if (session.status !== "open") {
      throw invalidParam("session", `This Checkout Session is ${session.status} and can no longer be paid.`, "checkout_session_not_open");
    }
    const customer = session.customer ? this.store.find("customer", session.customer) : undefined;
    const email = payer.email || session.customer_email || customer?.email || null;
    const name = payer.name || customer?.name || null;
    const created = unixNow();
    const paymentIntent = this.store.put<PaymentIntent>({
      id: newId("pi", 24),
      object: "payment_intent",
      amount: session.amount_total,
      amount_capturable: 0,
      amount_received: session.amount_total,
      created,
      currency: session.currency,
      customer: session.customer,
      latest_charge: null,
      livemode: false,
      metadata: this.paymentIntentMetadata.get(id) ?? {},
      payment_method_types: ["card"],
      receipt_email: email,
      status: "succeeded",
    });
    const chargeId = newId("ch", 24);
    const charge = this.store.put<Charge>({
      id: chargeId,
      object: "charge",
      amount: session.amount_total,
      amount_captured: session.amount_total,
      amount_refunded: 0,
      billing_details: { email, name },
      captured: true,
      created,
      currency: session.currency,
      customer: session.customer,
      livemode: false,
      metadata: {},
      paid: true,
      payment_intent: paymentIntent.id,
      receipt_email: email,
      receipt_url: `${this.publicUrl}/receipts/${chargeId}`,
      refunded: false,
      status: "succeeded",
    });
    paymentIntent.latest_charge = charge.id;
    Object.assign(session, {
      status: "complete",
      payment_status: "paid",
      payment_intent: paymentIntent.id,
      customer_details: { address: null, email, name, phone: null, tax_exempt: "none", tax_ids: [] },
      url: null,
    } satisfies Partial<CheckoutSession>);

    const emitted = [
      await this.emitEvent("charge.succeeded", charge),
      await this.emitEvent("payment_intent.succeeded", paymentIntent),
      await this.emitEvent("checkout.session.completed", session),
    ];
    return {
      session: structuredClone(session),
      paymentIntent: structuredClone(paymentIntent),
      charge: structuredClone(charge),
      events: emitted.map((e) => e.event),
      deliveries: emitted.flatMap((e) => (e.delivery ? [e.delivery] : [])),
    };
  }

  /**
   * Pressing "Pay" with a delayed-notification method (bank debit): the session completes unpaid, the
   * PaymentIntent is processing, and only checkout.session.completed is emitted. `settleAsyncPayment`
   * later decides the outcome.
   */
  async payCheckoutSessionAsync(id: string, payer: { email?: string; name?: string } = {}): Promise<{ session: CheckoutSession; paymentIntent: PaymentIntent; events: StripeEvent[] }> {
    const session = this.checkoutSession(id);
    if (session.status !== "open") {
      throw invalidParam("session", `This Checkout Session is ${session.status} and can no longer be paid.`, "checkout_session_not_open");
    }
    const customer = session.customer ? this.store.find("customer", session.customer) : undefined;
    const email = payer.email || session.customer_email || customer?.email || null;
    const name = payer.name || customer?.name || null;
    const paymentIntent = this.store.put<PaymentIntent>({
      id: newId("pi", 24),
      object: "payment_intent",
      amount: session.amount_total,
      amount_capturable: 0,
      amount_received: 0,
      created: unixNow(),
      currency: session.currency,
      customer: session.customer,
      latest_charge: null,
      livemode: false,
      metadata: this.paymentIntentMetadata.get(id) ?? {},
      payment_method_types: ["us_bank_account"],
      receipt_email: email,
      status: "processing",
      last_payment_error: null,
    });
    Object.assign(session, {
      status: "complete",
      payment_status: "unpaid",
      payment_intent: paymentIntent.id,
      customer_details: { address: null, email, name, phone: null, tax_exempt: "none", tax_ids: [] },
      url: null,
    } satisfies Partial<CheckoutSession>);
    const completed = await this.emitEvent("checkout.session.completed", session);
    return { session: structuredClone(session), paymentIntent: structuredClone(paymentIntent), events: [completed.event] };
  }

  /**
   * The bank's answer to an async payment: "succeeded" creates the Charge, marks the session paid and
   * emits checkout.session.async_payment_succeeded; "failed" records the error on the PaymentIntent and
   * emits checkout.session.async_payment_failed.
   */
  async settleAsyncPayment(id: string, outcome: "succeeded" | "failed"): Promise<{ session: CheckoutSession; charge?: Charge; events: StripeEvent[] }> {
    const session = this.checkoutSession(id);
    const paymentIntent = session.payment_intent ? this.store.find("payment_intent", session.payment_intent) : undefined;
    if (session.status !== "complete" || session.payment_status !== "unpaid" || paymentIntent?.status !== "processing") {
      throw invalidParam("session", "This Checkout Session has no async payment in progress.");
    }
    if (outcome === "failed") {
      Object.assign(paymentIntent, {
        status: "requires_payment_method",
        last_payment_error: { code: "payment_method_provider_decline", message: "The customer's bank account could not be debited." },
      } satisfies Partial<PaymentIntent>);
      const events = [
        (await this.emitEvent("payment_intent.payment_failed", paymentIntent)).event,
        (await this.emitEvent("checkout.session.async_payment_failed", session)).event,
      ];
      return { session: structuredClone(session), events };
    }
    const charge = this.createCharge(session, paymentIntent, paymentIntent.receipt_email, session.customer_details?.name ?? null);
    Object.assign(paymentIntent, { status: "succeeded", amount_received: session.amount_total, latest_charge: charge.id } satisfies Partial<PaymentIntent>);
    session.payment_status = "paid";
    const events = [
      (await this.emitEvent("charge.succeeded", charge)).event,
      (await this.emitEvent("payment_intent.succeeded", paymentIntent)).event,
      (await this.emitEvent("checkout.session.async_payment_succeeded", session)).event,
    ];
    return { session: structuredClone(session), charge: structuredClone(charge), events };
  }

  private createCharge(session: CheckoutSession, paymentIntent: PaymentIntent, email: string | null, name: string | null): Charge {
    const chargeId = newId("ch", 24);
    return this.store.put<Charge>({
      id: chargeId,
      object: "charge",
      amount: session.amount_total,
      amount_captured: session.amount_total,
      amount_refunded: 0,
      billing_details: { email, name },
      captured: true,
      created: unixNow(),
      currency: session.currency,
      customer: session.customer,
      livemode: false,
      metadata: {},
      paid: true,
      payment_intent: paymentIntent.id,
      receipt_email: email,
      receipt_url: `${this.publicUrl}/receipts/${chargeId}`,
      refunded: false,
      status: "succeeded",
    });
  }

  /**
   * Stripe's `POST /v1/refunds`: refunds `amount` (default: what is left) of a charge, at once
   * succeeded, and emits charge.refunded carrying the updated charge.
   */
  async refundCharge(chargeId: string, opts: { amount?: number; reason?: Refund["reason"]; metadata?: Metadata } = {}): Promise<{ refund: Refund; charge: Charge; event: StripeEvent }> {
    const charge = this.store.find("charge", chargeId);
    if (!charge) throw noSuchResource("charge", chargeId, "charge");
    const left = charge.amount_captured - charge.amount_refunded;
    const amount = opts.amount ?? left;
    if (left <= 0) throw invalidParam("charge", `Charge ${chargeId} has already been refunded.`, "charge_already_refunded");
    if (!Number.isInteger(amount) || amount <= 0 || amount > left) {
      throw invalidParam("amount", `Refund amount (${amount}) is greater than unrefunded amount on charge (${left}).`, "amount_too_large");
    }
    const refund = this.store.put<Refund>({
      id: newId("re", 24),
      object: "refund",
      amount,
      charge: chargeId,
      created: unixNow(),
      currency: charge.currency,
      metadata: opts.metadata ?? {},
      payment_intent: charge.payment_intent,
      reason: opts.reason ?? null,
      status: "succeeded",
    });
    const previous = { amount_refunded: charge.amount_refunded, refunded: charge.refunded };
    charge.amount_refunded += amount;
    charge.refunded = charge.amount_refunded === charge.amount_captured;
    const { event } = await this.emitEvent("charge.refunded", charge, previous);
    return { refund: structuredClone(refund), charge: structuredClone(charge), event };
  }

  /** Stripe's `POST /v1/checkout/sessions/:id/expire`, also what happens when `expires_at` passes. */
  async expireCheckoutSession(id: string): Promise<CheckoutSession> {
    const session = this.checkoutSession(id);
    if (session.status !== "open") {
      throw invalidParam("session", `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${session.status}".`);
    }
    Object.assign(session, { status: "expired", url: null } satisfies Partial<CheckoutSession>);
    await this.emitEvent("checkout.session.expired", session);
    return structuredClone(session);
  }

  /**
   * Records an event carrying a snapshot of `object` and hands it to the webhook endpoint.
   * The extension point for further flows (charge.refunded, async payment events).
   */
  async emitEvent(type: string, object: StripeObject, previousAttributes?: Record<string, unknown>): Promise<EmittedEvent> {
    const event: StripeEvent = {
      id: newId("evt", 24),
      object: "event",
      api_version: this.apiVersion,
      created: unixNow(),
      data: { object: structuredClone(object), ...(previousAttributes ? { previous_attributes: previousAttributes } : {}) },
      livemode: false,
      pending_webhooks: this.webhooks.wants(type) ? 1 : 0,
      request: { id: null, idempotency_key: null },
      type,
    };
    this.store.recordEvent(event);
    const delivery = await this.webhooks.dispatch(event);
    return { event: structuredClone(event), delivery };
  }

  reset(): void {
    this.store.clear();
    this.paymentIntentMetadata.clear();
    this.webhooks.pending.length = 0;
    this.webhooks.deliveries.length = 0;
  }
}
