import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { AppError, createPlatform, findBalanceMismatches, fulfilCheckoutSession, handleStripeWebhook, signUp, startCheckout, type Platform } from "@lucid/core";
import { startStripeStandin, type StripeStandin } from "@lucid/stripe-standin";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";
import { loadConfig } from "@lucid/config";

// Stripe's side is the loopback stand-in (the real `stripe` client talks to it);
// the webhook endpoint here calls the same domain function the web route does.
describe("Stripe purchases credit exactly once", () => {
  let t: TestPlatform;
  let p: Platform;
  let stripe: StripeStandin;
  let webhook: Server;
  const outcomes: Array<{ status: number; body: string }> = [];

  before(async () => {
    webhook = createServer(async (req, res) => {
      let raw = "";
      for await (const chunk of req) raw += chunk;
      try {
        const r = await handleStripeWebhook(p, raw, (req.headers["stripe-signature"] as string) ?? null);
        res.writeHead(200).end(JSON.stringify(r));
        outcomes.push({ status: 200, body: r.outcome });
      } catch (err) {
        const status = err instanceof AppError ? err.status : 500;
        res.writeHead(status).end((err as Error).message);
        outcomes.push({ status, body: (err as Error).message });
      }
    });
    await new Promise<void>((r) => webhook.listen(0, "127.0.0.1", r));
    stripe = await startStripeStandin({
      webhookSecret: "whsec_unit_test",
      webhookUrl: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/`,
      enabledEvents: ["checkout.session.completed"],
    });
    t = await startTestPlatform({ ...stripe.env });
    p = createPlatform(loadConfig(t.env));
  });
  after(async () => {
    await p?.db.$disconnect();
    await t?.stop();
    await stripe?.stop();
    webhook?.close();
  });

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
