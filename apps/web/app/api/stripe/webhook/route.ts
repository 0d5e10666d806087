import { NextResponse } from "next/server";
import { handleStripeWebhook } from "@lucid/core";
import { errorResponse } from "../../../../lib/http.ts";
import { platform } from "../../../../lib/platform.ts";

export const dynamic = "force-dynamic";

// Stripe signs the exact bytes it sent: verify the raw body, never a re-serialised one.
export async function POST(req: Request) {
  try {
    const raw = await req.text();
    const result = await handleStripeWebhook(platform(), raw, req.headers.get("stripe-signature"));
    return NextResponse.json(result);
  } catch (err) {
    return errorResponse(err);
  }
}
