import type { NewLineItem, TestModeAccount } from "./account.ts";
import { StripeApiError, invalidParam, missingParam, noSuchResource } from "./errors.ts";
import { unixNow } from "./ids.ts";
import type { StripeList, StripeObject } from "./objects.ts";
import {
  type Params,
  expandParam,
  metadataParam,
  optionalArray,
  optionalHash,
  optionalInteger,
  optionalString,
  rejectUnknownParams,
  requiredHash,
  requiredInteger,
  requiredString,
  urlParam,
} from "./params.ts";

type Handler = (account: TestModeAccount, params: Params, id: string) => unknown;
interface Route {
  method: "GET" | "POST";
  pattern: RegExp;
  handle: Handler;
}

/** The part of Stripe's v1 REST API that Lucid uses, plus the reads a Stripe integration commonly makes. */
const ROUTES: Route[] = [
  { method: "POST", pattern: /^\/v1\/customers$/, handle: createCustomer },
  { method: "GET", pattern: /^\/v1\/customers\/([^/]+)$/, handle: (a, p, id) => retrieve(a, p, "customer", id) },
  { method: "POST", pattern: /^\/v1\/checkout\/sessions$/, handle: createCheckoutSession },
  { method: "GET", pattern: /^\/v1\/checkout\/sessions$/, handle: listCheckoutSessions },
  { method: "GET", pattern: /^\/v1\/checkout\/sessions\/([^/]+)$/, handle: (a, p, id) => retrieve(a, p, "checkout.session", id) },
  {
    method: "GET",
    pattern: /^\/v1\/checkout\/sessions\/([^/]+)\/line_items$/,
    handle: (a, _p, id) => (a.checkoutSession(id), a.store.lineItemList(id)),
  },
  {
    method: "POST",
    pattern: /^\/v1\/checkout\/sessions\/([^/]+)\/expire$/,
    handle: async (a, p, id) => a.store.expand(await a.expireCheckoutSession(id), expandParam(p)),
  },
  { method: "GET", pattern: /^\/v1\/payment_intents\/([^/]+)$/, handle: (a, p, id) => retrieve(a, p, "payment_intent", id) },
  { method: "GET", pattern: /^\/v1\/charges\/([^/]+)$/, handle: (a, p, id) => retrieve(a, p, "charge", id) },
  { method: "POST", pattern: /^\/v1\/refunds$/, handle: createRefund },
  { method: "GET", pattern: /^\/v1\/refunds$/, handle: listRefunds },
  { method: "GET", pattern: /^\/v1\/refunds\/([^/]+)$/, handle: (a, p, id) => retrieve(a, p, "refund", id) },
  {
    method: "GET",
    pattern: /^\/v1\/events\/([^/]+)$/,
    handle: (a, _p, id) => a.store.event(id) ?? notFound("event", id),
  },
];

/** Answers one authenticated API request: the response object, or a StripeApiError to send back. */
export async function handleApiRequest(account: TestModeAccount, method: string, path: string, params: Params): Promise<unknown> {
  for (const route of ROUTES) {
    const match = route.pattern.exec(path);
    if (match && route.method === method) return route.handle(account, params, decodeURIComponent(match[1] ?? ""));
  }
  throw new StripeApiError(
    404,
    "invalid_request_error",
    `Unrecognized request URL (${method}: ${path}). The Lucid Stripe stand-in implements only part of Stripe's API.`,
  );
}

function notFound(kind: string, id: string): never {
  throw noSuchResource(kind, id, "id");
}

function retrieve(account: TestModeAccount, params: Params, kind: StripeObject["object"], id: string): StripeObject {
  rejectUnknownParams(params, ["expand"]);
  const object = account.store.find(kind, id) ?? notFound(kind, id);
  return account.store.expand(object, expandParam(params));
}

function createCustomer(account: TestModeAccount, params: Params): StripeObject {
  rejectUnknownParams(params, ["email", "name", "description", "phone", "metadata", "expand"]);
  const customer = account.createCustomer({
    email: optionalString(params, "email"),
    name: optionalString(params, "name"),
    description: optionalString(params, "description"),
    phone: optionalString(params, "phone"),
    metadata: metadataParam(params),
  });
  return account.store.expand(customer, expandParam(params));
}

const SESSION_PARAMS = [
  "mode",
  "customer",
  "customer_email",
  "line_items",
  "success_url",
  "cancel_url",
  "client_reference_id",
  "metadata",
  "payment_intent_data",
  "payment_method_types",
  "expires_at",
  "locale",
  "submit_type",
  "ui_mode",
  "expand",
  // Accepted and without effect here: they change what the real hosted page asks for.
  "allow_promotion_codes",
  "billing_address_collection",
  "customer_creation",
] as const;

function createCheckoutSession(account: TestModeAccount, params: Params): StripeObject {
  rejectUnknownParams(params, SESSION_PARAMS);
  const mode = requiredString(params, "mode");
  if (mode !== "payment") {
    throw invalidParam("mode", `Invalid mode: ${mode}. The Lucid Stripe stand-in supports only mode=payment.`);
  }
  const uiMode = optionalString(params, "ui_mode");
  if (uiMode !== undefined && uiMode !== "hosted") {
    throw invalidParam("ui_mode", `The Lucid Stripe stand-in supports only ui_mode=hosted.`);
  }
  const methods = optionalArray(params, "payment_method_types");
  if (methods && !methods.includes("card")) {
    throw invalidParam("payment_method_types", "The Lucid Stripe stand-in supports only the card payment method.");
  }
  const items = optionalArray(params, "line_items");
  if (!items || items.length === 0) throw missingParam("line_items");
  const lineItems = items.map((item, index) => lineItemParam(item, `line_items[${index}]`));
  if (lineItems.reduce((sum, item) => sum + item.unitAmount * item.quantity, 0) <= 0) {
    throw invalidParam("line_items", "The Checkout Session's total amount due must be greater than zero.");
  }
  const expiresAt = optionalInteger(params, "expires_at");
  if (expiresAt !== undefined) {
    const inSeconds = expiresAt - unixNow();
    if (inSeconds < 30 * 60 || inSeconds > 24 * 60 * 60) {
      throw invalidParam("expires_at", "The `expires_at` timestamp must be between 30 minutes and 24 hours from Checkout Session creation.");
    }
  }
  const paymentIntentData = optionalHash(params, "payment_intent_data") ?? {};
  rejectUnknownParams(paymentIntentData, ["metadata", "description", "receipt_email"], "payment_intent_data");
  const session = account.createCheckoutSession({
    customer: optionalString(params, "customer"),
    customerEmail: optionalString(params, "customer_email"),
    lineItems,
    successUrl: urlParam(params, "success_url", true) ?? "",
    cancelUrl: urlParam(params, "cancel_url", false),
    clientReferenceId: optionalString(params, "client_reference_id"),
    metadata: metadataParam(params),
    paymentIntentMetadata: metadataParam(paymentIntentData, "metadata"),
    expiresAt,
    locale: optionalString(params, "locale"),
    submitType: optionalString(params, "submit_type"),
  });
  return account.store.expand(session, expandParam(params));
}

function lineItemParam(value: unknown, path: string): NewLineItem {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw invalidParam(path, "Invalid object");
  const item = value as Params;
  rejectUnknownParams(item, ["price", "price_data", "quantity"], path);
  const price = optionalString(item, "price", `${path}[price]`);
  if (price !== undefined) throw noSuchResource("price", price, `${path}[price]`);
  const priceData = requiredHash(item, "price_data", `${path}[price_data]`);
  rejectUnknownParams(priceData, ["currency", "unit_amount", "product_data", "tax_behavior"], `${path}[price_data]`);
  const currency = requiredString(priceData, "currency", `${path}[price_data][currency]`).toLowerCase();
  if (!/^[a-z]{3}$/.test(currency)) throw invalidParam(`${path}[price_data][currency]`, `Invalid currency: ${currency}`);
  const unitAmount = requiredInteger(priceData, "unit_amount", `${path}[price_data][unit_amount]`);
  if (unitAmount < 0) throw invalidParam(`${path}[price_data][unit_amount]`, "This value must be greater than or equal to 0.");
  const productData = requiredHash(priceData, "product_data", `${path}[price_data][product_data]`);
  rejectUnknownParams(productData, ["name", "description", "metadata", "images"], `${path}[price_data][product_data]`);
  const quantity = requiredInteger(item, "quantity", `${path}[quantity]`);
  if (quantity < 1) throw invalidParam(`${path}[quantity]`, "This value must be greater than or equal to 1.");
  return {
    productName: requiredString(productData, "name", `${path}[price_data][product_data][name]`),
    productDescription: optionalString(productData, "description", `${path}[price_data][product_data][description]`),
    currency,
    unitAmount,
    quantity,
  };
}

/** `GET /v1/checkout/sessions`, newest first, filterable by `payment_intent` or `customer` as on Stripe. */
function listCheckoutSessions(account: TestModeAccount, params: Params): StripeList<StripeObject> {
  rejectUnknownParams(params, ["payment_intent", "customer", "limit", "expand"]);
  const paymentIntent = optionalString(params, "payment_intent");
  const customer = optionalString(params, "customer");
  const limit = optionalInteger(params, "limit") ?? 10;
  const data = account.store
    .all("checkout.session")
    .filter((s) => (paymentIntent === undefined || s.payment_intent === paymentIntent) && (customer === undefined || s.customer === customer))
    .reverse();
  return list("/v1/checkout/sessions", data.slice(0, limit).map((s) => account.store.expand(s, listExpand(params))), data.length > limit);
}

/** `POST /v1/refunds` with `charge` or `payment_intent`, optional `amount`. */
async function createRefund(account: TestModeAccount, params: Params): Promise<StripeObject> {
  rejectUnknownParams(params, ["charge", "payment_intent", "amount", "reason", "metadata", "expand"]);
  let chargeId = optionalString(params, "charge");
  const paymentIntentId = optionalString(params, "payment_intent");
  if (!chargeId && paymentIntentId) {
    const pi = account.store.find("payment_intent", paymentIntentId) ?? notFound("payment_intent", paymentIntentId);
    chargeId = pi.latest_charge ?? undefined;
    if (!chargeId) throw invalidParam("payment_intent", "This PaymentIntent has no successful charge to refund.");
  }
  if (!chargeId) throw missingParam("charge");
  const reason = optionalString(params, "reason") as "duplicate" | "fraudulent" | "requested_by_customer" | undefined;
  const { refund } = await account.refundCharge(chargeId, { amount: optionalInteger(params, "amount"), reason, metadata: metadataParam(params) });
  return account.store.expand(refund, expandParam(params));
}

/** `GET /v1/refunds`, newest first, filterable by `charge` or `payment_intent`. */
function listRefunds(account: TestModeAccount, params: Params): StripeList<StripeObject> {
  rejectUnknownParams(params, ["charge", "payment_intent", "limit", "expand"]);
  const charge = optionalString(params, "charge");
  const paymentIntent = optionalString(params, "payment_intent");
  const limit = optionalInteger(params, "limit") ?? 10;
  const data = account.store
    .all("refund")
    .filter((r) => (charge === undefined || r.charge === charge) && (paymentIntent === undefined || r.payment_intent === paymentIntent))
    .reverse();
  return list("/v1/refunds", data.slice(0, limit).map((r) => structuredClone(r)), data.length > limit);
}

function list(url: string, data: StripeObject[], hasMore: boolean): StripeList<StripeObject> {
  return { object: "list", data, has_more: hasMore, url };
}

// List endpoints take `expand[]=data.<field>`.
function listExpand(params: Params): string[] {
  return expandParam(params).map((path) => path.replace(/^data\./, ""));
}
