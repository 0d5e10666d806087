import { test } from "node:test";
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { verifyWebhook } from "../src/index.ts";

// A Standard Webhooks secret: whsec_ + base64 of the HMAC key.
const SECRET = `whsec_${Buffer.from("lucid-webhook-test-key-32-bytes!").toString("base64")}`;
const payload = JSON.stringify({ type: "generation.succeeded", data: { id: "0b6a8e52-3f7c-4d6e-9a51-2f1d8c7b9e10", status: "succeeded" } });

function signed(body: string, at = new Date(), secret = SECRET) {
  const id = "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W";
  return { "webhook-id": id, "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": new Webhook(secret).sign(id, at, body) };
}

test("a correctly signed delivery verifies and returns its payload, from a plain object or a fetch Headers", () => {
  const headers = signed(payload);
  assert.deepEqual(verifyWebhook(payload, headers, SECRET), JSON.parse(payload));
  assert.deepEqual(verifyWebhook(Buffer.from(payload), new Headers(headers), SECRET), JSON.parse(payload));
  // Node's IncomingHttpHeaders may carry any case and arrays.
  const shouty = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), [v]]));
  assert.deepEqual(verifyWebhook(payload, shouty, SECRET), JSON.parse(payload));
});

test("a tampered body, another secret, a missing signature or a stale timestamp is refused", () => {
  const headers = signed(payload);
  assert.throws(() => verifyWebhook(payload.replace("succeeded", "failed"), headers, SECRET), /signature/i);
  const other = `whsec_${Buffer.from("another-key-another-key-32bytes!").toString("base64")}`;
  assert.throws(() => verifyWebhook(payload, headers, other), /signature/i);
  assert.throws(() => verifyWebhook(payload, { "webhook-id": headers["webhook-id"], "webhook-timestamp": headers["webhook-timestamp"] }, SECRET), /header/i);
  const stale = signed(payload, new Date(Date.now() - 10 * 60_000));
  assert.throws(() => verifyWebhook(payload, stale, SECRET), /timestamp/i);
});
