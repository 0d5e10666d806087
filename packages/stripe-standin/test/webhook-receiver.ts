import { type IncomingMessage, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import Stripe from "stripe";

export interface ReceivedWebhook {
  rawBody: string;
  signature: string | undefined;
  /** The verified event, or the verification error's message. */
  event?: Stripe.Event;
  verificationError?: string;
}

/**
 * A stand-in for the app's webhook route: verifies each POST with the real client's
 * `constructEvent` exactly as the app will, and answers with a configurable status.
 */
export async function startWebhookReceiver(secret: string) {
  const received: ReceivedWebhook[] = [];
  let respondWith = 200;
  const server = createServer(async (req, res) => {
    const rawBody = await readBody(req);
    const signature = req.headers["stripe-signature"] as string | undefined;
    const entry: ReceivedWebhook = { rawBody, signature };
    try {
      entry.event = Stripe.webhooks.constructEvent(rawBody, signature ?? "", secret);
    } catch (error) {
      entry.verificationError = error instanceof Error ? error.message : String(error);
    }
    received.push(entry);
    const status = entry.event ? respondWith : 400;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify({ received: Boolean(entry.event) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/stripe/webhook`,
    received,
    verified: () => received.flatMap((r) => (r.event ? [r.event] : [])),
    respondWith(status: number) {
      respondWith = status;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** What a browser does with the hosted page: find its form, submit its fields to its action. */
export async function submitCheckoutForm(pageUrl: string, overrides: Record<string, string> = {}): Promise<Response> {
  const page = await fetch(pageUrl);
  if (page.status !== 200) throw new Error(`checkout page answered ${page.status}`);
  const html = await page.text();
  const form = /<form\b[^>]*>([\s\S]*?)<\/form>/.exec(html);
  if (!form) throw new Error("no form on the checkout page");
  const action = /action="([^"]*)"/.exec(form[0])?.[1] ?? "";
  const method = /method="([^"]*)"/.exec(form[0])?.[1] ?? "get";
  const fields = new URLSearchParams();
  for (const input of form[1]?.matchAll(/<(?:input|button)\b[^>]*>/g) ?? []) {
    const name = /name="([^"]*)"/.exec(input[0])?.[1];
    const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? "";
    if (name) fields.set(name, value);
  }
  for (const [name, value] of Object.entries(overrides)) fields.set(name, value);
  return fetch(new URL(action, pageUrl), {
    method: method.toUpperCase(),
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: fields.toString(),
    redirect: "manual",
  });
}
