import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import Stripe from "stripe";
import { type StripeStandin, startStripeStandin } from "../src/index.ts";

describe("refunds and async payment methods", () => {
  let standin: StripeStandin;
  let stripe: Stripe;
  before(async () => {
    standin = await startStripeStandin({ webhookSecret: "whsec_test", log: () => {} });
    stripe = new Stripe("sk_test_123", { ...standin.clientConfig });
  });
  after(() => standin.stop());

  const session = () =>
    stripe.checkout.sessions.create({
      mode: "payment",
      line_items: [{ price_data: { currency: "usd", unit_amount: 500, product_data: { name: "100 credits" } }, quantity: 1 }],
      success_url: "http://localhost:3000/billing/success?session_id={CHECKOUT_SESSION_ID}",
      metadata: { credits: "100" },
    });

  test("partial then full refunds update the charge, list by charge, and emit charge.refunded each time", async () => {
    const s = await session();
    const paid = await standin.sessions.pay(s.id);
    const first = await stripe.refunds.create({ charge: paid.charge.id, amount: 200 });
    assert.match(first.id, /^re_/);
    assert.deepEqual([first.amount, first.status, first.payment_intent], [200, "succeeded", paid.paymentIntent.id]);
    const { refund: rest, charge } = await standin.refund(paid.charge.id);
    assert.equal(rest.amount, 300);
    assert.deepEqual([charge.amount_refunded, charge.refunded], [500, true]);
    await assert.rejects(stripe.refunds.create({ payment_intent: paid.paymentIntent.id }), /already been refunded/);
    const listed = await stripe.refunds.list({ charge: paid.charge.id });
    assert.deepEqual(listed.data.map((r) => r.id).sort(), [first.id, rest.id].sort());
    const events = standin.events.list("charge.refunded");
    assert.equal(events.length, 2);
    assert.equal((events[1]!.data.object as { amount_refunded: number }).amount_refunded, 500);
    const bySession = await stripe.checkout.sessions.list({ payment_intent: paid.paymentIntent.id });
    assert.deepEqual(bySession.data.map((x) => x.id), [s.id]);
  });

  test("an async payment completes unpaid, then succeeds with a charge or fails with a reason", async () => {
    const ok = await session();
    await standin.sessions.payAsync(ok.id);
    let read = await stripe.checkout.sessions.retrieve(ok.id);
    assert.deepEqual([read.status, read.payment_status], ["complete", "unpaid"]);
    const settled = await standin.sessions.settleAsync(ok.id, "succeeded");
    read = await stripe.checkout.sessions.retrieve(ok.id, { expand: ["payment_intent.latest_charge"] });
    assert.equal(read.payment_status, "paid");
    const pi = read.payment_intent as Stripe.PaymentIntent;
    assert.equal((pi.latest_charge as Stripe.Charge).receipt_url, settled.charge!.receipt_url);
    assert.deepEqual(settled.events.map((e) => e.type), ["charge.succeeded", "payment_intent.succeeded", "checkout.session.async_payment_succeeded"]);

    const bad = await session();
    await standin.sessions.payAsync(bad.id);
    const failed = await standin.sessions.settleAsync(bad.id, "failed");
    assert.equal(failed.events.at(-1)!.type, "checkout.session.async_payment_failed");
    const intent = await stripe.paymentIntents.retrieve((await stripe.checkout.sessions.retrieve(bad.id)).payment_intent as string);
    assert.equal(intent.status, "requires_payment_method");
    assert.match(intent.last_payment_error?.message ?? "", /could not be debited/);
    await assert.rejects(standin.sessions.settleAsync(bad.id, "succeeded"), /no async payment in progress/);
  });
});
