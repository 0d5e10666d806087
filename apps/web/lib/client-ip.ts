import { headers } from "next/headers";

/**
 * The client's address for sign-in limits: the first X-Forwarded-For hop (set
 * by the load balancer in front of the app, and by `next start` itself), else
 * X-Real-IP. Behind no proxy a client could forge the header, which only
 * spreads its own per-IP counter: the per-account limit still holds.
 */
export async function clientIp(): Promise<string> {
  const h = await headers();
  return h.get("x-forwarded-for")?.split(",")[0]?.trim() || h.get("x-real-ip")?.trim() || "unknown";
}
