// Stripe's side for billing tests: the loopback stand-in (the real `stripe`
// client talks to it) delivering to a local webhook endpoint that calls the
// same domain function as the web route, on a real PostgreSQL + emulator.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { AppError, createPlatform, handleStripeWebhook, type Platform } from "@lucid/core";
import { loadConfig } from "@lucid/config";
import { startStripeStandin, type StripeStandinOptions, type StripeStandin } from "@lucid/stripe-standin";
import { startTestPlatform, type TestPlatform } from "@lucid/testing";

export interface StripeHarness {
  t: TestPlatform;
  p: Platform;
  stripe: StripeStandin;
  /** Every webhook answer, in order: HTTP status and the handler's outcome (or error message). */
  outcomes: Array<{ status: number; body: string }>;
  stop(): Promise<void>;
}

export async function startStripeHarness(opts: Omit<StripeStandinOptions, "webhookUrl">): Promise<StripeHarness> {
  const outcomes: StripeHarness["outcomes"] = [];
  let p: Platform | undefined;
  const webhook = createServer(async (req, res) => {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    try {
      const r = await handleStripeWebhook(p!, raw, (req.headers["stripe-signature"] as string) ?? null);
      res.writeHead(200).end(JSON.stringify(r));
      outcomes.push({ status: 200, body: r.outcome });
    } catch (err) {
      const status = err instanceof AppError ? err.status : 500;
      res.writeHead(status).end((err as Error).message);
      outcomes.push({ status, body: (err as Error).message });
    }
  });
  await new Promise<void>((r) => webhook.listen(0, "127.0.0.1", r));
  const stripe = await startStripeStandin({ ...opts, webhookUrl: `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/` });
  const t = await startTestPlatform({ ...stripe.env });
  p = createPlatform(loadConfig(t.env));
  const platform = p;
  return {
    t,
    p: platform,
    stripe,
    outcomes,
    stop: async () => {
      await platform.db.$disconnect();
      await t.stop();
      await stripe.stop();
      webhook.close();
    },
  };
}
