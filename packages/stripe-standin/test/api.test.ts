import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import Stripe from "stripe";
import { type StripeStandin, startStripeStandin } from "../src/index.ts";

const checkoutParams = (customer: string): Stripe.Checkout.SessionCreateParams => ({
  mode: "payment",
  customer,
  line_items: [
    { price_data: { currency: "usd", unit_amount: 500, product_data: { name: "100 credits" } }, quantity: 1 },
  ],
  success_url: "http://localhost:3000/billing/success?session_id={CHECKOUT_SESSION_ID}",
  cancel_url: "http://localhost:3000/billing",
  client_reference_id: "ws_123",
  metadata: { workspace_id: "ws_123", pack_id: "starter", credits: "100" },
});

describe("Stripe REST API subset, driven by the real stripe client", () => {
  let standin: StripeStandin;
  let stripe: Stripe;

  before(async () => {
    standin = await startStripeStandin({ webhookSecret: "whsec_test", log: () => {} });
    stripe = new Stripe("sk_test_123", { ...standin.clientConfig });
  });
  after(() => standin.stop());

  test("customers.create keeps email, name and metadata", async () => {
    const customer = await stripe.customers.create({
      email: "ada@example.com",
      name: "Ada",
      metadata: { workspace_id: "ws_123" },
    });
    assert.match(customer.id, /^cus_/);
    assert.equal(customer.object, "customer");
    assert.equal(customer.email, "ada@example.com");
    assert.equal(customer.name, "Ada");
    assert.deepEqual(customer.metadata, { workspace_id: "ws_123" });
    assert.equal(customer.livemode, false);
    assert.equal((await stripe.customers.retrieve(customer.id)).id, customer.id);
  });

  test("checkout.sessions.create returns an open session with a hosted URL, and retrieve returns it", async () => {
    const customer = await stripe.customers.create({ email: "ada@example.com" });
    const created = await stripe.checkout.sessions.create(checkoutParams(customer.id));
    assert.match(created.id, /^cs_test_/);
    assert.equal(created.object, "checkout.session");
    assert.equal(created.status, "open");
    assert.equal(created.payment_status, "unpaid");
    assert.equal(created.mode, "payment");
    assert.equal(created.amount_total, 500);
    assert.equal(created.currency, "usd");
    assert.equal(created.customer, customer.id);
    assert.equal(created.client_reference_id, "ws_123");
    assert.deepEqual(created.metadata, { workspace_id: "ws_123", pack_id: "starter", credits: "100" });
    // The template survives form encoding untouched; Stripe fills it only on redirect.
    assert.equal(created.success_url, "http://localhost:3000/billing/success?session_id={CHECKOUT_SESSION_ID}");
    assert.equal(created.cancel_url, "http://localhost:3000/billing");
    assert.equal(created.payment_intent, null);
    assert.equal(created.livemode, false);
    assert.equal(created.url, `${standin.url}/c/pay/${created.id}`);

    const retrieved = await stripe.checkout.sessions.retrieve(created.id);
    const plain = (value: object) => JSON.parse(JSON.stringify(value)) as unknown;
    assert.deepEqual(plain(retrieved), plain(created));
    const items = await stripe.checkout.sessions.listLineItems(created.id);
    assert.equal(items.data.length, 1);
    assert.equal(items.data[0]?.description, "100 credits");
    assert.equal(items.data[0]?.price?.unit_amount, 500);
  });

  test("retrieving an unknown session fails with StripeInvalidRequestError resource_missing", async () => {
    await assert.rejects(stripe.checkout.sessions.retrieve("cs_test_nope"), (error: unknown) => {
      assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError);
      assert.equal(error.statusCode, 404);
      assert.equal(error.code, "resource_missing");
      assert.equal(error.message, "No such checkout.session: 'cs_test_nope'");
      return true;
    });
  });

  test("a wrong API key fails with StripeAuthenticationError", async () => {
    const strict = await startStripeStandin({ webhookSecret: "whsec_test", secretKey: "sk_test_right", log: () => {} });
    try {
      const wrongKey = new Stripe("sk_test_wrong", { ...strict.clientConfig });
      await assert.rejects(wrongKey.customers.create({ email: "x@example.com" }), Stripe.errors.StripeAuthenticationError);
      const rightKey = new Stripe("sk_test_right", { ...strict.clientConfig });
      assert.match((await rightKey.customers.create({ email: "x@example.com" })).id, /^cus_/);
    } finally {
      await strict.stop();
    }
    const liveKey = new Stripe("sk_live_123", { ...standin.clientConfig });
    await assert.rejects(liveKey.customers.create({}), Stripe.errors.StripeAuthenticationError);
  });

  test("a request without any key gets 401 with Stripe's error body", async () => {
    const response = await fetch(`${standin.url}/v1/customers`, { method: "POST" });
    assert.equal(response.status, 401);
    const body = (await response.json()) as { error: { type: string; message: string; code: string } };
    assert.equal(body.error.type, "invalid_request_error");
    assert.equal(body.error.code, "api_key_missing");
    assert.match(body.error.message, /did not provide an API key/);
  });

  test("missing required params fail with parameter_missing naming the param", async () => {
    const customer = await stripe.customers.create({});
    const withoutSuccessUrl = { ...checkoutParams(customer.id), success_url: undefined };
    await assert.rejects(stripe.checkout.sessions.create(withoutSuccessUrl), (error: unknown) => {
      assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError);
      assert.equal(error.code, "parameter_missing");
      assert.equal(error.param, "success_url");
      return true;
    });
    const withoutAmount = checkoutParams(customer.id);
    delete withoutAmount.line_items![0]!.price_data!.unit_amount;
    await assert.rejects(stripe.checkout.sessions.create(withoutAmount), (error: unknown) => {
      assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError);
      assert.equal(error.code, "parameter_missing");
      assert.equal(error.param, "line_items[0][price_data][unit_amount]");
      return true;
    });
  });

  test("an unknown parameter or customer is refused as Stripe would", async () => {
    const customer = await stripe.customers.create({});
    const typo = { ...checkoutParams(customer.id), sucess_url: "http://localhost:3000/x" } as Stripe.Checkout.SessionCreateParams;
    await assert.rejects(stripe.checkout.sessions.create(typo), (error: unknown) => {
      assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError);
      assert.equal(error.code, "parameter_unknown");
      assert.equal(error.param, "sucess_url");
      return true;
    });
    await assert.rejects(stripe.checkout.sessions.create(checkoutParams("cus_missing")), (error: unknown) => {
      assert.ok(error instanceof Stripe.errors.StripeInvalidRequestError);
      assert.equal(error.code, "resource_missing");
      assert.equal(error.param, "customer");
      return true;
    });
  });

  test("a repeated Idempotency-Key replays the first response instead of creating twice", async () => {
    const first = await stripe.customers.create({ email: "once@example.com" }, { idempotencyKey: "key-1" });
    const second = await stripe.customers.create({ email: "once@example.com" }, { idempotencyKey: "key-1" });
    assert.equal(second.id, first.id);
    assert.equal(standin.customers.list().filter((c) => c.email === "once@example.com").length, 1);
    await assert.rejects(
      stripe.customers.create({ email: "other@example.com" }, { idempotencyKey: "key-1" }),
      Stripe.errors.StripeIdempotencyError,
    );
  });

  test("retrieve with expand: ['payment_intent'] returns the paid PaymentIntent and its charge", async () => {
    const customer = await stripe.customers.create({ email: "ada@example.com" });
    const session = await stripe.checkout.sessions.create(checkoutParams(customer.id));
    const notExpanded = await stripe.checkout.sessions.retrieve(session.id, { expand: ["payment_intent"] });
    assert.equal(notExpanded.payment_intent, null);

    await standin.sessions.pay(session.id);
    const paid = await stripe.checkout.sessions.retrieve(session.id, { expand: ["payment_intent.latest_charge"] });
    assert.equal(paid.status, "complete");
    assert.equal(paid.payment_status, "paid");
    const paymentIntent = paid.payment_intent as Stripe.PaymentIntent;
    assert.match(paymentIntent.id, /^pi_/);
    assert.equal(paymentIntent.status, "succeeded");
    assert.equal(paymentIntent.amount, 500);
    const charge = paymentIntent.latest_charge as Stripe.Charge;
    assert.match(charge.id, /^ch_/);
    assert.equal(charge.receipt_url, `${standin.url}/receipts/${charge.id}`);
    assert.equal((await fetch(charge.receipt_url!)).status, 200);

    await assert.rejects(
      stripe.checkout.sessions.retrieve(session.id, { expand: ["metadata"] }),
      Stripe.errors.StripeInvalidRequestError,
    );
  });
});
