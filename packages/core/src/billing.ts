import type Stripe from "stripe";
import { CheckoutRequest, describeFieldErrors, fieldErrors, type CreditPack } from "@lucid/contracts";
import { Prisma } from "@lucid/db";
import { AppError } from "./errors.ts";
import { appendLedgerEntry } from "./credits.ts";
import type { Platform } from "./platform.ts";

function requireStripe(p: Platform): Stripe {
  if (!p.stripe || !p.config.stripe) throw new AppError("billing_not_configured", "Billing is not configured on this server.");
  return p.stripe;
}

export function creditPacks(p: Platform): CreditPack[] {
  return p.config.creditPacks;
}

/** Starts a Stripe Checkout for a credit pack; returns the hosted page to send the browser to. */
export async function startCheckout(
  p: Platform,
  who: { workspaceId: string; email: string },
  input: unknown,
): Promise<{ url: string; sessionId: string }> {
  const stripe = requireStripe(p);
  const parsed = CheckoutRequest.safeParse(input);
  if (!parsed.success) {
    const fields = fieldErrors(parsed.error);
    throw new AppError("validation_failed", describeFieldErrors(fields), fields);
  }
  const pack = p.config.creditPacks.find((c) => c.id === parsed.data.pack);
  if (!pack) throw new AppError("unknown_pack", `pack "${parsed.data.pack}" does not exist`, [{ field: "pack", message: "is not a known credit pack" }]);

  const workspace = await p.db.workspace.findUniqueOrThrow({ where: { id: who.workspaceId } });
  let customer = workspace.stripeCustomerId;
  if (!customer) {
    const created = await stripe.customers.create({ email: who.email, name: workspace.name, metadata: { workspace_id: workspace.id } });
    customer = created.id;
    await p.db.workspace.update({ where: { id: workspace.id }, data: { stripeCustomerId: customer } });
  }
  const session = await stripe.checkout.sessions.create({
    mode: "payment",
    customer,
    client_reference_id: workspace.id,
    line_items: [{ quantity: 1, price_data: { currency: pack.currency, unit_amount: pack.unitAmount, product_data: { name: `Lucid ${pack.name}` } } }],
    metadata: { workspace_id: workspace.id, pack_id: pack.id, credits: String(pack.credits) },
    success_url: `${p.config.publicUrl}/billing/success?session_id={CHECKOUT_SESSION_ID}`,
    cancel_url: `${p.config.publicUrl}/billing?canceled=1`,
  });
  if (!session.url) throw new AppError("internal", "Stripe returned no checkout URL");
  return { url: session.url, sessionId: session.id };
}

export type FulfilmentResult =
  | { status: "fulfilled"; applied: boolean; credits: number; workspaceId: string }
  | { status: "unpaid" };

type StripeEventRef = { id: string; type: string };
type Tx = Prisma.TransactionClient;

/** What Lucid put on the session at startCheckout; anything else was not created here. */
function lucidSession(session: Stripe.Checkout.Session): { workspaceId: string; credits: number; packId: string | null } {
  const workspaceId = session.metadata?.workspace_id;
  const credits = Number(session.metadata?.credits);
  if (!workspaceId || !Number.isInteger(credits) || credits <= 0) {
    throw new AppError("validation_failed", "Checkout Session was not created by Lucid");
  }
  return { workspaceId, credits, packId: session.metadata?.pack_id ?? null };
}

function idOf(v: string | { id: string } | null | undefined): string | null {
  return typeof v === "string" ? v : (v?.id ?? null);
}

/**
 * Runs `effect` with the event recorded in the same transaction, so an event
 * id is applied at most once; a concurrent duplicate (P2002) is reported as seen.
 */
async function onceForEvent<T>(p: Platform, event: StripeEventRef | undefined, effect: (tx: Tx) => Promise<T>, seen: T): Promise<T> {
  try {
    return await p.db.$transaction(async (tx) => {
      if (event) {
        if (await tx.stripeEvent.findUnique({ where: { id: event.id } })) return seen;
        await tx.stripeEvent.create({ data: { id: event.id, type: event.type } });
      }
      return effect(tx);
    });
  } catch (err) {
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002") return seen;
    throw err;
  }
}

/** Creates or updates the session's Purchase row; a paid purchase is never downgraded. */
async function upsertPurchase(
  tx: Tx,
  session: Stripe.Checkout.Session,
  meta: { workspaceId: string; credits: number; packId: string | null },
  patch: { status: "processing" | "paid" | "failed"; failureMessage?: string | null; receiptUrl?: string | null; chargeId?: string | null },
): Promise<void> {
  const current = await tx.purchase.findUnique({ where: { checkoutSessionId: session.id }, select: { status: true } });
  const status = current?.status === "paid" ? "paid" : patch.status;
  const fields = {
    status,
    paymentIntentId: idOf(session.payment_intent),
    ...(patch.failureMessage !== undefined && status !== "paid" ? { failureMessage: patch.failureMessage } : {}),
    ...(status === "paid" ? { failureMessage: null } : {}),
    ...(patch.receiptUrl ? { receiptUrl: patch.receiptUrl } : {}),
    ...(patch.chargeId ? { chargeId: patch.chargeId } : {}),
  };
  if (current) {
    await tx.purchase.update({ where: { checkoutSessionId: session.id }, data: fields });
    return;
  }
  await tx.purchase.create({
    data: {
      workspaceId: meta.workspaceId,
      checkoutSessionId: session.id,
      packId: meta.packId,
      credits: meta.credits,
      amountTotal: session.amount_total ?? 0,
      currency: session.currency ?? "usd",
      ...fields,
    },
  });
}

/**
 * Credits a paid Checkout Session exactly once. The session is always re-read
 * from Stripe (an event or a redirect is only a pointer), and the ledger's
 * unique reference makes the webhook and the success page safe to race. A
 * session completed with an async method (not yet paid) is recorded as
 * processing; `checkout.session.async_payment_succeeded` lands here again.
 */
export async function fulfilCheckoutSession(p: Platform, sessionId: string, event?: StripeEventRef): Promise<FulfilmentResult> {
  const stripe = requireStripe(p);
  if (!/^cs_[A-Za-z0-9_]+$/.test(sessionId)) {
    throw new AppError("validation_failed", "session_id is not a Checkout Session id", [{ field: "session_id", message: "is not valid" }]);
  }
  const session = await stripe.checkout.sessions.retrieve(sessionId, { expand: ["payment_intent.latest_charge"] });
  const meta = lucidSession(session);
  const { workspaceId, credits } = meta;
  if (session.payment_status !== "paid") {
    await onceForEvent(p, event, async (tx) => {
      if (session.status === "complete") await upsertPurchase(tx, session, meta, { status: "processing" });
    }, undefined);
    return { status: "unpaid" };
  }
  const intent = typeof session.payment_intent === "object" ? session.payment_intent : null;
  const charge = intent && typeof intent.latest_charge === "object" ? intent.latest_charge : null;
  const result = await onceForEvent(
    p,
    event,
    async (tx) => {
      const r = await appendLedgerEntry(tx, {
        workspaceId,
        kind: "purchase",
        amount: credits,
        externalRef: `stripe:checkout:${session.id}`,
        reason: `Bought ${credits} credits (${meta.packId ?? "pack"})`,
      });
      await upsertPurchase(tx, session, meta, { status: "paid", receiptUrl: charge?.receipt_url ?? null, chargeId: charge?.id ?? idOf(intent?.latest_charge) });
      return { applied: r.applied };
    },
    { applied: false },
  );
  return { status: "fulfilled", applied: result.applied, credits, workspaceId };
}

/** `checkout.session.async_payment_failed`: no credits; the billing page shows why. */
export async function recordAsyncPaymentFailure(p: Platform, sessionId: string, event?: StripeEventRef): Promise<{ recorded: boolean }> {
  const stripe = requireStripe(p);
  const session = await stripe.checkout.sessions.retrieve(sessionId, { expand: ["payment_intent"] });
  const meta = lucidSession(session);
  if (session.payment_status === "paid") return { recorded: false };
  const intent = typeof session.payment_intent === "object" ? session.payment_intent : null;
  const message = intent?.last_payment_error?.message ?? "The payment failed.";
  return onceForEvent<{ recorded: boolean }>(
    p,
    event,
    async (tx) => {
      await upsertPurchase(tx, session, meta, { status: "failed", failureMessage: message });
      return { recorded: true };
    },
    { recorded: false },
  );
}

/**
 * `charge.refunded`: takes back the credits of each refund of a Lucid purchase,
 * one `refund` ledger entry per Stripe refund id, so replays and reordering
 * cannot apply one twice. Partial refunds take a proportional share (rounded
 * on the running total, so a full refund takes exactly the pack). The balance
 * may go negative: a debt that blocks new jobs until a purchase clears it.
 * Refund and purchase entries are independent, so a refund seen before the
 * completion event still ends at the exact balance.
 */
export async function applyChargeRefunds(p: Platform, chargeId: string, event?: StripeEventRef): Promise<{ creditsRemoved: number }> {
  const stripe = requireStripe(p);
  const charge = await stripe.charges.retrieve(chargeId);
  const paymentIntentId = idOf(charge.payment_intent);
  if (!paymentIntentId) return { creditsRemoved: 0 };
  const sessions = await stripe.checkout.sessions.list({ payment_intent: paymentIntentId, limit: 1 });
  const session = sessions.data[0];
  if (!session?.metadata?.workspace_id) return { creditsRemoved: 0 }; // not a Lucid purchase
  const meta = lucidSession(session);
  const refunds = (await stripe.refunds.list({ charge: chargeId, limit: 100 })).data
    .filter((r) => r.status === "succeeded")
    .sort((a, b) => a.created - b.created || a.id.localeCompare(b.id));
  const total = session.amount_total ?? charge.amount;
  return onceForEvent(
    p,
    event,
    async (tx) => {
      // Lock the workspace first: what was already taken back is read and extended atomically.
      await tx.$queryRaw`SELECT id FROM "Workspace" WHERE id = ${meta.workspaceId}::uuid FOR UPDATE`;
      const applied = await tx.creditEntry.findMany({
        where: { externalRef: { in: refunds.map((r) => `stripe:refund:${r.id}`) } },
        select: { externalRef: true, amount: true },
      });
      const appliedRefs = new Set(applied.map((e) => e.externalRef));
      let refundedCents = refunds.filter((r) => appliedRefs.has(`stripe:refund:${r.id}`)).reduce((sum, r) => sum + r.amount, 0);
      let refundedCredits = -applied.reduce((sum, e) => sum + e.amount, 0);
      let removed = 0;
      for (const refund of refunds) {
        const ref = `stripe:refund:${refund.id}`;
        if (appliedRefs.has(ref)) continue;
        // Proportional, rounded on the running total: however refunds are split, their credits add up to round(pack × refunded / paid).
        refundedCents += refund.amount;
        const upTo = total > 0 ? Math.min(meta.credits, Math.round((meta.credits * refundedCents) / total)) : meta.credits;
        const credits = upTo - refundedCredits;
        refundedCredits = upTo;
        if (credits <= 0) continue;
        await appendLedgerEntry(tx, {
          workspaceId: meta.workspaceId,
          kind: "refund",
          amount: -credits,
          externalRef: ref,
          reason: `Refund ${refund.id}: ${credits} of ${meta.credits} purchased credits taken back`,
        });
        removed += credits;
      }
      // The charge exists, so the session was paid, whatever order the events arrive in.
      await upsertPurchase(tx, session, meta, { status: "paid", chargeId, receiptUrl: charge.receipt_url });
      await tx.purchase.update({ where: { checkoutSessionId: session.id }, data: { creditsRefunded: refundedCredits } });
      return { creditsRemoved: removed };
    },
    { creditsRemoved: 0 },
  );
}

/** Verifies a webhook on its raw body (signature and Stripe's 300 s timestamp tolerance) and applies it. */
export async function handleStripeWebhook(p: Platform, rawBody: string, signature: string | null): Promise<{ received: true; type: string; outcome: string }> {
  const stripe = requireStripe(p);
  let event: Stripe.Event;
  try {
    event = stripe.webhooks.constructEvent(rawBody, signature ?? "", p.config.stripe!.webhookSecret);
  } catch (err) {
    throw new AppError("invalid_signature", `Webhook signature verification failed: ${(err as Error).message}`);
  }
  switch (event.type) {
    case "checkout.session.completed":
    case "checkout.session.async_payment_succeeded": {
      const r = await fulfilCheckoutSession(p, event.data.object.id, event);
      return { received: true, type: event.type, outcome: r.status === "fulfilled" ? (r.applied ? "credited" : "already_credited") : "unpaid" };
    }
    case "checkout.session.async_payment_failed": {
      const r = await recordAsyncPaymentFailure(p, event.data.object.id, event);
      return { received: true, type: event.type, outcome: r.recorded ? "payment_failed" : "ignored" };
    }
    case "charge.refunded": {
      const r = await applyChargeRefunds(p, event.data.object.id, event);
      return { received: true, type: event.type, outcome: r.creditsRemoved > 0 ? "refunded" : "already_refunded" };
    }
    default:
      return { received: true, type: event.type, outcome: "ignored" };
  }
}

export interface PurchaseView {
  id: string;
  checkoutSessionId: string;
  packId: string | null;
  credits: number;
  amountTotal: number;
  currency: string;
  status: "processing" | "paid" | "failed";
  failureMessage: string | null;
  receiptUrl: string | null;
  creditsRefunded: number;
  createdAt: Date;
}

/** The workspace's purchases, newest first, for the billing page. */
export async function listPurchases(p: Platform, workspaceId: string, limit = 50): Promise<PurchaseView[]> {
  return p.db.purchase.findMany({
    where: { workspaceId },
    orderBy: { createdAt: "desc" },
    take: limit,
    select: {
      id: true, checkoutSessionId: true, packId: true, credits: true, amountTotal: true, currency: true,
      status: true, failureMessage: true, receiptUrl: true, creditsRefunded: true, createdAt: true,
    },
  });
}
