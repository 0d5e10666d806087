import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import {
  AppError,
  findBalanceMismatches,
  fulfilCheckoutSession,
  listPurchases,
  signUp,
  startCheckout,
  submitGeneration,
  type Platform,
} from "@lucid/core";
import type { StripeStandin } from "@lucid/stripe-standin";
import type { TestPlatform } from "@lucid/testing";
import { startStripeHarness, type StripeHarness } from "./support/stripe-harness.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

// Every test ends by proving the ledger and the balances agree, twice: through
// the domain function and through the operator CLI (`npm run lucid -- credits:check`).
describe("Stripe money: every credit bought, refunded or replayed is counted exactly once", () => {
  let t: TestPlatform;
  let p: Platform;
  let stripe: StripeStandin;
  let outcomes: StripeHarness["outcomes"];
  let harness: StripeHarness;

  before(async () => {
    harness = await startStripeHarness({ webhookSecret: "whsec_money_test", log: () => {} });
    ({ t, p, stripe, outcomes } = harness);
  });
  after(async () => harness?.stop());

  const balance = async (workspaceId: string) => (await p.db.workspace.findUniqueOrThrow({ where: { id: workspaceId } })).creditBalance;
  const ledgerIsConsistent = async () => {
    assert.deepEqual(await findBalanceMismatches(p.db), []);
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "apps/cli/src/main.ts", "credits:check"], {
      cwd: ROOT,
      env: { ...process.env, ...t.env },
    });
    assert.match(stdout, /^OK: every workspace balance equals the sum of its ledger entries/m);
  };
  const buyer = async (tag: string) => {
    const u = await signUp(p, { email: `${tag}-${Date.now()}@example.com`, password: "password123" });
    return { ...u, checkout: (pack = "starter") => startCheckout(p, { workspaceId: u.workspaceId, email: u.email }, { pack }) };
  };
  const job = { prompt: "a lighthouse", width: 64, height: 64, steps: 4 }; // 1 credit

  it("duplicate deliveries of every event type change nothing after the first", async () => {
    const u = await buyer("dup");
    const { sessionId } = await u.checkout();
    const paid = await stripe.sessions.pay(sessionId);
    assert.equal(await balance(u.workspaceId), 150);
    const { event: refunded } = await stripe.refund(paid.charge.id, { amount: 250 }); // half of $5.00 → 50 credits
    assert.equal(await balance(u.workspaceId), 100);
    for (const e of [...paid.events, refunded]) {
      const again = await stripe.resend(e.id);
      assert.equal(again.status, 200);
    }
    // Resending the same events concurrently too.
    await Promise.all([...paid.events, refunded].map((e) => stripe.resend(e.id)));
    assert.equal(await balance(u.workspaceId), 100);
    const entries = await p.db.creditEntry.findMany({ where: { workspaceId: u.workspaceId }, orderBy: { createdAt: "asc" } });
    assert.deepEqual(entries.map((e) => [e.kind, e.amount]), [["grant", 50], ["purchase", 100], ["refund", -50]]);
    await ledgerIsConsistent();
  });

  it("partial refunds, delivered out of order, take back exactly the pack once the charge is fully refunded", async () => {
    const u = await buyer("partials");
    const { sessionId } = await u.checkout();
    const paid = await stripe.sessions.pay(sessionId);
    stripe.webhookMode = "manual";
    try {
      const events = [];
      for (const amount of [101, 101, 298]) events.push((await stripe.refund(paid.charge.id, { amount })).event);
      // The last event first: it sees all three refunds; the earlier ones then find nothing left to do.
      for (const e of [...events].reverse()) assert.equal((await stripe.resend(e.id)).status, 200);
      await stripe.deliverPending();
    } finally {
      stripe.webhookMode = "immediate";
    }
    assert.equal(await balance(u.workspaceId), 50, "the whole 100-credit pack is taken back, not 99 or 101");
    const refunds = await p.db.creditEntry.findMany({ where: { workspaceId: u.workspaceId, kind: "refund" } });
    assert.equal(refunds.length, 3);
    assert.equal(refunds.reduce((s, e) => s + e.amount, 0), -100);
    assert.equal((await listPurchases(p, u.workspaceId))[0]?.creditsRefunded, 100);
    await ledgerIsConsistent();
  });

  it("a webhook arriving before the success page credits once, and the page then reports it", async () => {
    const u = await buyer("hookfirst");
    const { sessionId } = await u.checkout("pro");
    await stripe.sessions.pay(sessionId);
    assert.equal(outcomes.at(-1)?.body, "credited");
    assert.equal(await balance(u.workspaceId), 550);
    assert.deepEqual(await fulfilCheckoutSession(p, sessionId), { status: "fulfilled", applied: false, credits: 500, workspaceId: u.workspaceId });
    assert.equal(await balance(u.workspaceId), 550);
    const [purchase] = await listPurchases(p, u.workspaceId);
    assert.equal(purchase?.status, "paid");
    const charge = stripe.charges.get(stripe.paymentIntents.get(stripe.sessions.get(sessionId)!.payment_intent!)!.latest_charge!)!;
    assert.equal(purchase?.receiptUrl, charge.receipt_url, "the billing page links the Stripe receipt");
    const receipt = await fetch(purchase!.receiptUrl!);
    assert.equal(receipt.status, 200);
    await ledgerIsConsistent();
  });

  it("a refund takes the credits back, may leave a debt that refuses new jobs, and paying again clears it", async () => {
    const u = await buyer("refund");
    const { sessionId } = await u.checkout();
    const paid = await stripe.sessions.pay(sessionId);
    assert.equal(await balance(u.workspaceId), 150);
    // Spend 128 of the 150 credits, then the 100-credit purchase is refunded in full.
    const big = { prompt: "a big one", width: 1024, height: 1024, steps: 50, n: 4 }; // 32 credits
    for (let i = 0; i < 4; i++) await submitGeneration(p, { workspaceId: u.workspaceId, source: "api" }, big);
    assert.equal(await balance(u.workspaceId), 22);
    await stripe.refund(paid.charge.id);
    assert.equal(outcomes.at(-1)?.body, "refunded");
    assert.equal(await balance(u.workspaceId), -78, "the refund leaves a debt of 78 credits");
    const [purchase] = await listPurchases(p, u.workspaceId);
    assert.equal(purchase?.creditsRefunded, 100);

    await assert.rejects(submitGeneration(p, { workspaceId: u.workspaceId, source: "api" }, job), (err: unknown) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.code, "insufficient_credits");
      assert.match(err.message, /owes 78 credits/);
      return true;
    });
    assert.equal(await balance(u.workspaceId), -78, "a refused job reserves nothing");

    const again = await u.checkout();
    await stripe.sessions.pay(again.sessionId);
    assert.equal(await balance(u.workspaceId), 22);
    await submitGeneration(p, { workspaceId: u.workspaceId, source: "api" }, job);
    assert.equal(await balance(u.workspaceId), 21);
    await ledgerIsConsistent();
  });

  it("out of order: a refund before the completion, and the completion replayed after the refund, end at the exact balance", async () => {
    const u = await buyer("order");
    const { sessionId } = await u.checkout();
    stripe.webhookMode = "manual";
    try {
      const paid = await stripe.sessions.pay(sessionId);
      const { event: refunded } = await stripe.refund(paid.charge.id);
      const completed = paid.events.find((e) => e.type === "checkout.session.completed")!;
      // The refund is delivered first: the credits it takes back were never added yet.
      assert.equal((await stripe.resend(refunded.id)).status, 200);
      assert.equal(await balance(u.workspaceId), -50);
      assert.equal((await stripe.resend(completed.id)).status, 200);
      assert.equal(await balance(u.workspaceId), 50);
      // Stripe's own (late) deliveries of both, and the completion once more.
      await stripe.deliverPending();
      assert.equal((await stripe.resend(completed.id)).status, 200);
      assert.equal(await balance(u.workspaceId), 50);
      // The success page after the refund adds nothing either.
      assert.equal((await fulfilCheckoutSession(p, sessionId)).status, "fulfilled");
      assert.equal(await balance(u.workspaceId), 50);
    } finally {
      stripe.webhookMode = "immediate";
    }
    const kinds = (await p.db.creditEntry.findMany({ where: { workspaceId: u.workspaceId } })).map((e) => `${e.kind}:${e.amount}`).sort();
    assert.deepEqual(kinds, ["grant:50", "purchase:100", "refund:-100"]);
    await ledgerIsConsistent();
  });

  it("refuses a replayed old event (outside the 300 s tolerance) and a bad signature; the genuine delivery still credits once", async () => {
    const u = await buyer("replay");
    const { sessionId } = await u.checkout();
    stripe.webhookMode = "manual";
    try {
      const paid = await stripe.sessions.pay(sessionId);
      const completed = paid.events.find((e) => e.type === "checkout.session.completed")!;
      const old = await stripe.deliver(completed, { timestamp: Math.floor(Date.now() / 1000) - 301 });
      assert.equal(old.status, 400);
      assert.match(await old.text(), /Timestamp outside the tolerance zone/);
      const wrong = await stripe.deliver(completed, { secret: "whsec_attacker" });
      assert.equal(wrong.status, 400);
      const unsigned = await stripe.deliver(completed, { signature: null });
      assert.equal(unsigned.status, 400);
      // A tampered body under a signature made for the original bytes.
      const body = JSON.stringify(completed);
      const sig = stripe.signPayload(body);
      const tampered = await stripe.deliver(body.replace('"paid"', '"paid" '), { signature: sig });
      assert.equal(tampered.status, 400);
      assert.equal(await balance(u.workspaceId), 50, "nothing applied from refused deliveries");
      assert.equal(await p.db.stripeEvent.count({ where: { id: completed.id } }), 0, "a refused event is not marked as processed");
      await stripe.deliverPending();
    } finally {
      stripe.webhookMode = "immediate";
    }
    assert.equal(await balance(u.workspaceId), 150);
    await ledgerIsConsistent();
  });

  it("an async payment credits only when it clears; a failed one is recorded with its reason and credits nothing", async () => {
    const ok = await buyer("async-ok");
    const s1 = await ok.checkout();
    await stripe.sessions.payAsync(s1.sessionId);
    assert.equal(outcomes.at(-1)?.body, "unpaid");
    assert.equal(await balance(ok.workspaceId), 50, "nothing before the money clears");
    assert.equal((await listPurchases(p, ok.workspaceId))[0]?.status, "processing");
    assert.deepEqual(await fulfilCheckoutSession(p, s1.sessionId), { status: "unpaid" }, "the success page does not credit early");
    const settled = await stripe.sessions.settleAsync(s1.sessionId, "succeeded");
    assert.equal(outcomes.at(-1)?.body, "credited");
    assert.equal(await balance(ok.workspaceId), 150);
    const succeeded = settled.events.find((e) => e.type === "checkout.session.async_payment_succeeded")!;
    await stripe.resend(succeeded.id);
    assert.equal(await balance(ok.workspaceId), 150);
    const [bought] = await listPurchases(p, ok.workspaceId);
    assert.equal(bought?.status, "paid");
    assert.equal(bought?.receiptUrl, settled.charge!.receipt_url);

    const bad = await buyer("async-fail");
    const s2 = await bad.checkout();
    await stripe.sessions.payAsync(s2.sessionId);
    const failed = await stripe.sessions.settleAsync(s2.sessionId, "failed");
    assert.equal(outcomes.at(-1)?.body, "payment_failed");
    await stripe.resend(failed.events.at(-1)!.id);
    assert.equal(await balance(bad.workspaceId), 50);
    const [purchase] = await listPurchases(p, bad.workspaceId);
    assert.equal(purchase?.status, "failed");
    assert.match(purchase?.failureMessage ?? "", /bank account could not be debited/);
    await ledgerIsConsistent();
  });
});
