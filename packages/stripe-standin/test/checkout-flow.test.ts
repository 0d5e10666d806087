import assert from "node:assert/strict";
import { after, afterEach, before, describe, test } from "node:test";
import Stripe from "stripe";
import { type StripeStandin, startStripeStandin } from "../src/index.ts";
import { startWebhookReceiver, submitCheckoutForm } from "./webhook-receiver.ts";

const WEBHOOK_SECRET = "whsec_test_flow";

describe("hosted checkout page and signed webhooks", () => {
  let standin: StripeStandin;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  let stripe: Stripe;
  const logged: string[] = [];

  before(async () => {
    receiver = await startWebhookReceiver(WEBHOOK_SECRET);
    standin = await startStripeStandin({
      webhookUrl: receiver.url,
      webhookSecret: WEBHOOK_SECRET,
      log: (message) => logged.push(message),
    });
    stripe = new Stripe("sk_test_123", { ...standin.clientConfig });
  });
  afterEach(() => {
    standin.reset();
    standin.webhookMode = "immediate";
    standin.setWebhookUrl(receiver.url);
    receiver.received.length = 0;
    receiver.respondWith(200);
  });
  after(async () => {
    await standin.stop();
    await receiver.close();
  });

  async function openSession() {
    const customer = await stripe.customers.create({ email: "ada@example.com", name: "Ada" });
    return stripe.checkout.sessions.create({
      mode: "payment",
      customer: customer.id,
      line_items: [
        { price_data: { currency: "usd", unit_amount: 2000, product_data: { name: "500 credits" } }, quantity: 1 },
      ],
      success_url: "http://localhost:3000/billing/success?session_id={CHECKOUT_SESSION_ID}",
      cancel_url: "http://localhost:3000/billing?canceled=1",
      client_reference_id: "ws_42",
      metadata: { workspace_id: "ws_42", pack_id: "pro" },
    });
  }

  test("the hosted page shows the amount, the product, a Pay button and a Cancel link", async () => {
    const session = await openSession();
    const response = await fetch(session.url!);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /text\/html/);
    const html = await response.text();
    assert.match(html, /\$20\.00/);
    assert.match(html, /500 credits/);
    assert.match(html, /<button[^>]*>Pay \$20\.00<\/button>/);
    assert.match(html, /<a[^>]*href="http:\/\/localhost:3000\/billing\?canceled=1"[^>]*>Cancel<\/a>/);
    assert.match(html, /value="ada@example.com"/);
  });

  test("paying redirects 303 to success_url with the id filled in, and the session reads as paid", async () => {
    const session = await openSession();
    const response = await submitCheckoutForm(session.url!);
    assert.equal(response.status, 303);
    assert.equal(response.headers.get("location"), `http://localhost:3000/billing/success?session_id=${session.id}`);

    const paid = await stripe.checkout.sessions.retrieve(session.id, { expand: ["payment_intent"] });
    assert.equal(paid.status, "complete");
    assert.equal(paid.payment_status, "paid");
    assert.equal(paid.customer_details?.email, "ada@example.com");
    assert.equal(paid.url, null);
    const paymentIntent = paid.payment_intent as Stripe.PaymentIntent;
    assert.equal(paymentIntent.amount_received, 2000);
    assert.match(String(paymentIntent.latest_charge), /^ch_/);
  });

  test("the webhook endpoint receives a checkout.session.completed that constructEvent verifies", async () => {
    const session = await openSession();
    await submitCheckoutForm(session.url!, { email: "payer@example.com" });

    assert.deepEqual(
      receiver.received.map((r) => r.verificationError),
      receiver.received.map(() => undefined),
    );
    const events = receiver.verified();
    assert.deepEqual(
      events.map((e) => e.type),
      ["charge.succeeded", "payment_intent.succeeded", "checkout.session.completed"],
    );
    const completed = events.find((e) => e.type === "checkout.session.completed")!;
    assert.match(completed.id, /^evt_/);
    assert.equal(completed.object, "event");
    assert.equal(completed.livemode, false);
    assert.equal(completed.api_version, Stripe.API_VERSION);
    const object = completed.data.object as Stripe.Checkout.Session;
    assert.equal(object.id, session.id);
    assert.equal(object.status, "complete");
    assert.equal(object.payment_status, "paid");
    assert.equal(object.amount_total, 2000);
    assert.equal(object.client_reference_id, "ws_42");
    assert.deepEqual(object.metadata, { workspace_id: "ws_42", pack_id: "pro" });
    assert.equal(object.customer_details?.email, "payer@example.com");
    assert.match(String(object.payment_intent), /^pi_/);

    const delivery = standin.deliveries.find((d) => d.eventId === completed.id);
    assert.equal(delivery?.status, 200);
    assert.equal(delivery?.ok, true);
    assert.equal(delivery?.attempt, 1);
  });

  test("resend delivers the same event id and body again, freshly signed", async () => {
    const session = await openSession();
    await submitCheckoutForm(session.url!);
    const [completed] = standin.events.list("checkout.session.completed");
    assert.ok(completed);

    const delivery = await standin.resend(completed.id);
    assert.equal(delivery.status, 200);
    assert.equal(delivery.attempt, 2);
    const copies = receiver.received.filter((r) => r.event?.id === completed.id);
    assert.equal(copies.length, 2);
    assert.equal(copies[0]?.rawBody, copies[1]?.rawBody);
  });

  test("a badly signed delivery fails constructEvent", async () => {
    const session = await openSession();
    const event = standin.makeEvent("checkout.session.completed", standin.sessions.get(session.id)!);

    const wrongSecret = await standin.deliver(event, { secret: "whsec_not_the_right_one" });
    assert.equal(wrongSecret.status, 400);
    const stale = await standin.deliver(event, { timestamp: Math.floor(Date.now() / 1000) - 3600 });
    assert.equal(stale.status, 400);
    const unsigned = await standin.deliver(event, { signature: null });
    assert.equal(unsigned.status, 400);
    const payload = JSON.stringify(event);
    const tampered = await standin.deliver(payload.replace('"ws_42"', '"ws_666"'), { signature: standin.signPayload(payload) });
    assert.equal(tampered.status, 400);

    assert.deepEqual(
      receiver.received.map((r) => r.event),
      [undefined, undefined, undefined, undefined],
    );
    assert.match(receiver.received[0]?.verificationError ?? "", /No signatures found matching the expected signature/);
    assert.match(receiver.received[1]?.verificationError ?? "", /Timestamp outside the tolerance zone/);

    const good = await standin.deliver(event);
    assert.equal(good.status, 200);
    assert.equal(receiver.received.at(-1)?.event?.id, event.id);
  });

  test("in manual mode the success redirect comes before any webhook, which arrives on deliverPending", async () => {
    standin.webhookMode = "manual";
    const session = await openSession();
    const response = await submitCheckoutForm(session.url!);
    assert.equal(response.status, 303);
    assert.equal(receiver.received.length, 0);
    assert.equal(standin.sessions.get(session.id)?.status, "complete");
    assert.deepEqual(
      standin.pendingEvents.map((e) => e.type),
      ["charge.succeeded", "payment_intent.succeeded", "checkout.session.completed"],
    );

    const deliveries = await standin.deliverPending();
    assert.deepEqual(deliveries.map((d) => d.status), [200, 200, 200]);
    assert.equal(receiver.verified().at(-1)?.type, "checkout.session.completed");
    assert.equal(standin.pendingEvents.length, 0);
  });

  test("a failing or unreachable webhook endpoint does not break the redirect; the failure is recorded", async () => {
    receiver.respondWith(500);
    const first = await openSession();
    const failing = await submitCheckoutForm(first.url!);
    assert.equal(failing.status, 303);
    const completed = standin.deliveries.find((d) => d.eventType === "checkout.session.completed");
    assert.equal(completed?.status, 500);
    assert.equal(completed?.ok, false);

    standin.setWebhookUrl("http://127.0.0.1:9/unreachable");
    const second = await openSession();
    const unreachable = await submitCheckoutForm(second.url!);
    assert.equal(unreachable.status, 303);
    const lost = standin.deliveries.filter((d) => d.url.endsWith("/unreachable"));
    assert.equal(lost.length, 3);
    assert.ok(lost.every((d) => d.status === null && d.ok === false && d.error));
    assert.ok(logged.some((line) => line.includes("/unreachable failed")));
  });

  test("submitting the form twice pays once", async () => {
    const session = await openSession();
    assert.equal((await submitCheckoutForm(session.url!)).status, 303);
    const page = await fetch(session.url!);
    assert.match(await page.text(), /already been paid/);
    const again = await fetch(session.url!, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "action=pay",
      redirect: "manual",
    });
    assert.equal(again.status, 409);
    assert.equal(standin.events.list("checkout.session.completed").length, 1);
  });

  test("an expired session cannot be paid and emits checkout.session.expired", async () => {
    const session = await openSession();
    const expired = await stripe.checkout.sessions.expire(session.id);
    assert.equal(expired.status, "expired");
    assert.equal(receiver.verified().at(-1)?.type, "checkout.session.expired");
    const response = await fetch(session.url!, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "action=pay",
      redirect: "manual",
    });
    assert.equal(response.status, 409);
    assert.equal((await stripe.checkout.sessions.retrieve(session.id)).payment_status, "unpaid");
  });
});
