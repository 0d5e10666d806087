import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { findBalanceMismatches, fulfilCheckoutSession, signUp, startCheckout, type Platform } from "@lucid/core";
import type { StripeStandin } from "@lucid/stripe-standin";
import { startStripeHarness, type StripeHarness } from "./support/stripe-harness.ts";

// Stripe's side is the loopback stand-in (the real `stripe` client talks to it);
// the webhook endpoint here calls the same domain function the web route does.
describe("Stripe purchases credit exactly once", () => {
  let p: Platform;
  let stripe: StripeStandin;
  let outcomes: StripeHarness["outcomes"];
  let harness: StripeHarness;

  before(async () => {
    harness = await startStripeHarness({ webhookSecret: "whsec_unit_test", enabledEvents: ["checkout.session.completed"] });
    ({ p, stripe, outcomes } = harness);
  });
  after(async () => harness?.stop());

  const balance = async (workspaceId: string) => (await p.db.workspace.findUniqueOrThrow({ where: { id: workspaceId } })).creditBalance;

  it("webhook, duplicate webhook and success page together add the pack once", async () => {
    const u = await signUp(p, { email: "buyer@example.com", password: "password123" });
    const { sessionId, url } = await startCheckout(p, { workspaceId: u.workspaceId, email: u.email }, { pack: "starter" });
    assert.ok(url.startsWith(stripe.url));
    assert.deepEqual(await fulfilCheckoutSession(p, sessionId), { status: "unpaid" }, "nothing before payment");
    assert.equal(await balance(u.workspaceId), 50);

    await stripe.sessions.pay(sessionId);
    const completed = stripe.events.list("checkout.session.completed").find((e) => (e.data.object as { id: string }).id === sessionId)!;
    assert.equal(outcomes.at(-1)?.body, "credited");
    assert.equal(await balance(u.workspaceId), 150);

    const again = await stripe.resend(completed.id);
    assert.equal(again.status, 200);
    assert.equal(outcomes.at(-1)?.body, "already_credited");
    const page = await fulfilCheckoutSession(p, sessionId);
    assert.deepEqual(page, { status: "fulfilled", applied: false, credits: 100, workspaceId: u.workspaceId });
    assert.equal(await balance(u.workspaceId), 150);
    assert.deepEqual(await findBalanceMismatches(p.db), []);
  });

  it("the success page arriving before the webhook credits once too", async () => {
    const u = await signUp(p, { email: "early@example.com", password: "password123" });
    stripe.webhookMode = "manual";
    const { sessionId } = await startCheckout(p, { workspaceId: u.workspaceId, email: u.email }, { pack: "pro" });
    await stripe.sessions.pay(sessionId);
    assert.equal((await fulfilCheckoutSession(p, sessionId)).status, "fulfilled");
    assert.equal(await balance(u.workspaceId), 550);
    await stripe.deliverPending();
    stripe.webhookMode = "immediate";
    assert.equal(outcomes.at(-1)?.body, "already_credited");
    assert.equal(await balance(u.workspaceId), 550);
  });

  it("refuses a badly signed event and a forged session", async () => {
    const u = await signUp(p, { email: "forger@example.com", password: "password123" });
    const { sessionId } = await startCheckout(p, { workspaceId: u.workspaceId, email: u.email }, { pack: "studio" });
    const forged = stripe.makeEvent("checkout.session.completed", { ...stripe.sessions.get(sessionId)!, payment_status: "paid" });
    const bad = await stripe.deliver(forged, { secret: "whsec_wrong" });
    assert.equal(bad.status, 400);
    // Correctly signed, but the session is re-read from Stripe: it is unpaid, so nothing is credited.
    const signed = await stripe.deliver(forged);
    assert.equal(signed.status, 200);
    assert.equal(outcomes.at(-1)?.body, "unpaid");
    assert.equal(await balance(u.workspaceId), 50);
  });
});
