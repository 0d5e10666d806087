import type { Metadata } from "./params.ts";

/**
 * The subset of Stripe's v1 object shapes the stand-in produces. Field names and value types follow
 * Stripe's API reference; fields Lucid never reads are left out rather than faked.
 */

export interface Customer {
  id: string;
  object: "customer";
  created: number;
  description: string | null;
  email: string | null;
  livemode: false;
  metadata: Metadata;
  name: string | null;
  phone: string | null;
}

export interface CustomerDetails {
  address: null;
  email: string | null;
  name: string | null;
  phone: string | null;
  tax_exempt: "none";
  tax_ids: [];
}

export type CheckoutSessionStatus = "open" | "complete" | "expired";
export type CheckoutPaymentStatus = "unpaid" | "paid" | "no_payment_required";

export interface CheckoutSession {
  id: string;
  object: "checkout.session";
  amount_subtotal: number;
  amount_total: number;
  cancel_url: string | null;
  client_reference_id: string | null;
  created: number;
  currency: string;
  customer: string | null;
  customer_details: CustomerDetails | null;
  customer_email: string | null;
  expires_at: number;
  livemode: false;
  locale: string | null;
  metadata: Metadata;
  mode: "payment";
  payment_intent: string | null;
  payment_method_types: string[];
  payment_status: CheckoutPaymentStatus;
  status: CheckoutSessionStatus;
  submit_type: string | null;
  success_url: string | null;
  ui_mode: "hosted";
  url: string | null;
}

export interface Price {
  id: string;
  object: "price";
  active: boolean;
  billing_scheme: "per_unit";
  created: number;
  currency: string;
  livemode: false;
  metadata: Metadata;
  product: string;
  type: "one_time";
  unit_amount: number;
}

export interface LineItem {
  id: string;
  object: "item";
  amount_discount: number;
  amount_subtotal: number;
  amount_tax: number;
  amount_total: number;
  currency: string;
  description: string;
  price: Price;
  quantity: number;
}

export interface PaymentIntent {
  id: string;
  object: "payment_intent";
  amount: number;
  amount_capturable: number;
  amount_received: number;
  created: number;
  currency: string;
  customer: string | null;
  latest_charge: string | null;
  livemode: false;
  metadata: Metadata;
  payment_method_types: string[];
  receipt_email: string | null;
  status: "requires_payment_method" | "processing" | "succeeded" | "canceled";
  /** Set when an (async) payment attempt failed. */
  last_payment_error?: { code: string; message: string } | null;
}

export interface Charge {
  id: string;
  object: "charge";
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  billing_details: { email: string | null; name: string | null };
  captured: boolean;
  created: number;
  currency: string;
  customer: string | null;
  livemode: false;
  metadata: Metadata;
  paid: boolean;
  payment_intent: string | null;
  receipt_email: string | null;
  receipt_url: string;
  refunded: boolean;
  status: "succeeded" | "pending" | "failed";
}

export interface Refund {
  id: string;
  object: "refund";
  amount: number;
  charge: string;
  created: number;
  currency: string;
  metadata: Metadata;
  payment_intent: string | null;
  reason: "duplicate" | "fraudulent" | "requested_by_customer" | null;
  status: "succeeded" | "pending" | "failed" | "canceled";
}

/** Anything the stand-in stores under its id. New resource kinds join this union. */
export type StripeObject = Customer | CheckoutSession | PaymentIntent | Charge | Refund;
export type StripeObjectKind = StripeObject["object"];
export type StripeObjectOf<K extends StripeObjectKind> = Extract<StripeObject, { object: K }>;

export interface StripeEvent<T extends object = StripeObject> {
  id: string;
  object: "event";
  api_version: string;
  created: number;
  data: { object: T; previous_attributes?: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export interface StripeList<T> {
  object: "list";
  data: T[];
  has_more: boolean;
  url: string;
}
