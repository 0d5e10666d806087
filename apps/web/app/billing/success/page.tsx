import Link from "next/link";
import { AppError, fulfilCheckoutSession } from "@lucid/core";
import { platform } from "../../../lib/platform.ts";
import { requireViewer } from "../../../lib/session.ts";

// The success page fulfils through the same idempotent function as the webhook,
// so a slow webhook never leaves the buyer waiting and nothing is credited twice.
export default async function CheckoutSuccessPage({ searchParams }: { searchParams: Promise<{ session_id?: string }> }) {
  const buyer = await requireViewer();
  const { session_id } = await searchParams;
  let message: string;
  try {
    const r = await fulfilCheckoutSession(platform(), session_id ?? "");
    // Fulfilment always credits the workspace that paid; only its members learn about it here.
    if (r.status === "fulfilled" && r.workspaceId !== buyer.workspace.id) message = "This payment belongs to another workspace.";
    else message = r.status === "fulfilled" ? `Payment received: ${r.credits} credits were added.` : "Your payment is still processing; credits are added as soon as it clears.";
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    message = err.message;
  }
  const viewer = await requireViewer();
  return (
    <div className="narrow card">
      <h1>Thank you</h1>
      <p data-testid="checkout-result">{message}</p>
      <p>Balance: <strong data-testid="billing-balance">{viewer.workspace.creditBalance}</strong> credits.</p>
      <p><Link href="/studio">Back to the studio</Link></p>
    </div>
  );
}
