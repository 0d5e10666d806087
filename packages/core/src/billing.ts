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

/**
 * Credits a paid Checkout Session exactly once. The session is always re-read
 * from Stripe (an event or a redirect is only a pointer), and the ledger's
 * unique reference makes the webhook and the success page safe to race.
 */
export async function fulfilCheckoutSession(p: Platform, sessionId: string, event?: { id: string; type: string }): Promise<FulfilmentResult> {
  const stripe = requireStripe(p);
  if (!/^cs_[A-Za-z0-9_]+$/.test(sessionId)) {
    throw new AppError("validation_failed", "session_id is not a Checkout Session id", [{ field: "session_id", message: "is not valid" }]);
  }
  const session = await stripe.checkout.sessions.retrieve(sessionId);
  const workspaceId = session.metadata?.workspace_id;
  const credits = Number(session.metadata?.credits);
  if (!workspaceId || !Number.isInteger(credits) || credits <= 0) {
    throw new AppError("validation_failed", "Checkout Session was not created by Lucid");
  }
  if (session.payment_status !== "paid") {
    if (event) await recordEvent(p, event);
    return { status: "unpaid" };
  }
  const apply = (tx: Prisma.TransactionClient) =>
    appendLedgerEntry(tx, {
      workspaceId,
      kind: "purchase",
      amount: credits,
      externalRef: `stripe:checkout:${session.id}`,
      reason: `Bought ${credits} credits (${session.metadata?.pack_id ?? "pack"})`,
    });
  try {
    const result = await p.db.$transaction(async (tx) => {
      if (event) {
        const seen = await tx.stripeEvent.findUnique({ where: { id: event.id } });
        if (seen) return { applied: false };
        await tx.stripeEvent.create({ data: { id: event.id, type: event.type } });
      }
      return apply(tx);
    });
    return { status: "fulfilled", applied: result.applied, credits, workspaceId };
  } catch (err) {
    // A concurrent fulfilment of the same session or event won the race.
    if (err instanceof Prisma.PrismaClientKnownRequestError && err.code === "P2002") {
      return { status: "fulfilled", applied: false, credits, workspaceId };
    }
    throw err;
  }
}

async function recordEvent(p: Platform, event: { id: string; type: string }) {
  await p.db.stripeEvent.upsert({ where: { id: event.id }, create: { id: event.id, type: event.type }, update: {} });
}

/** Verifies a webhook on its raw body and applies it. */
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
      const r = await fulfilCheckoutSession(p, (event.data.object as Stripe.Checkout.Session).id, event);
      return { received: true, type: event.type, outcome: r.status === "fulfilled" ? (r.applied ? "credited" : "already_credited") : "unpaid" };
    }
    default:
      return { received: true, type: event.type, outcome: "ignored" };
  }
}
