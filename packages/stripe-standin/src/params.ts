import qs from "qs";
import { invalidParam, missingParam, unknownParam } from "./errors.ts";

/** Decoded request parameters: strings, nested objects and arrays, as Stripe's bracket notation gives. */
export type Params = { [key: string]: unknown };
export type Metadata = Record<string, string>;

/**
 * Stripe's v1 wire format: form bodies and query strings with bracket notation
 * (`line_items[0][price_data][unit_amount]=500`, `expand[0]=payment_intent`, `expand[]=customer`).
 */
export function decodeStripeParams(encoded: string): Params {
  return qs.parse(encoded, { depth: 10, arrayLimit: 100, parameterLimit: 2000, allowPrototypes: false });
}

/** Stripe rejects parameters it does not know; so do we, so typos in the app fail loudly in tests. */
export function rejectUnknownParams(params: Params, allowed: readonly string[], path = ""): void {
  for (const key of Object.keys(params)) {
    if (!allowed.includes(key)) throw unknownParam(path ? `${path}[${key}]` : key);
  }
}

export function optionalString(params: Params, key: string, path = key): string | undefined {
  const value = params[key];
  if (value === undefined || value === "") return undefined;
  if (typeof value !== "string") throw invalidParam(path, `Invalid string: ${JSON.stringify(value)}`);
  return value;
}

export function requiredString(params: Params, key: string, path = key): string {
  const value = optionalString(params, key, path);
  if (value === undefined) throw missingParam(path);
  return value;
}

export function optionalInteger(params: Params, key: string, path = key): number | undefined {
  const value = optionalString(params, key, path);
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw invalidParam(path, `Invalid integer: ${value}`, "parameter_invalid_integer");
  const parsed = Number(value);
  if (!Number.isSafeInteger(parsed)) throw invalidParam(path, `Invalid integer: ${value}`, "parameter_invalid_integer");
  return parsed;
}

export function requiredInteger(params: Params, key: string, path = key): number {
  const value = optionalInteger(params, key, path);
  if (value === undefined) throw missingParam(path);
  return value;
}

export function optionalHash(params: Params, key: string, path = key): Params | undefined {
  const value = params[key];
  if (value === undefined || value === "") return undefined;
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalidParam(path, `Invalid object`, "parameter_invalid_empty");
  }
  return value as Params;
}

export function requiredHash(params: Params, key: string, path = key): Params {
  const value = optionalHash(params, key, path);
  if (value === undefined) throw missingParam(path);
  return value;
}

export function optionalArray(params: Params, key: string, path = key): unknown[] | undefined {
  const value = params[key];
  if (value === undefined || value === "") return undefined;
  if (Array.isArray(value)) return value;
  // qs turns indices above its arrayLimit into object keys; keep their order.
  if (typeof value === "object" && value !== null && Object.keys(value).every((k) => /^\d+$/.test(k))) {
    return Object.entries(value)
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(([, v]) => v);
  }
  throw invalidParam(path, `Invalid array`);
}

/** Stripe's metadata limits: 50 keys, keys up to 40 characters, string values up to 500 characters. */
export function metadataParam(params: Params, key = "metadata"): Metadata {
  const hash = optionalHash(params, key) ?? {};
  const entries = Object.entries(hash);
  if (entries.length > 50) throw invalidParam(key, "Invalid metadata: metadata can have up to 50 keys");
  const metadata: Metadata = {};
  for (const [name, value] of entries) {
    if (name.length > 40) throw invalidParam(`${key}[${name}]`, "Metadata keys can have up to 40 characters");
    if (typeof value !== "string") throw invalidParam(`${key}[${name}]`, "Metadata values must be strings");
    if (value.length > 500) throw invalidParam(`${key}[${name}]`, "Metadata values can have up to 500 characters");
    if (value !== "") metadata[name] = value;
  }
  return metadata;
}

export function expandParam(params: Params): string[] {
  const list = optionalArray(params, "expand") ?? [];
  return list.map((entry, index) => {
    if (typeof entry !== "string") throw invalidParam(`expand[${index}]`, "Invalid string");
    return entry;
  });
}

export function urlParam(params: Params, key: string, required: boolean): string | undefined {
  const value = required ? requiredString(params, key) : optionalString(params, key);
  if (value === undefined) return undefined;
  // Stripe keeps the string as given (so `{CHECKOUT_SESSION_ID}` survives); it only checks it parses.
  if (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
    throw invalidParam(key, "Not a valid URL", "url_invalid");
  }
  return value;
}
