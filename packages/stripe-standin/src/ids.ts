import { randomBytes } from "node:crypto";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** A Stripe-looking object id (`cs_test_a1B2…`, `evt_…`); random, unique for practical purposes. */
export function newId(prefix: string, length = 24): string {
  let body = "";
  for (const byte of randomBytes(length)) body += BASE62[byte % 62];
  return `${prefix}_${body}`;
}

export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}
