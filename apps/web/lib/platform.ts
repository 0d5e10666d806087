import { nextCookies } from "better-auth/next-js";
import { loadConfig } from "@lucid/config";
import { createPlatform, type Platform } from "@lucid/core";

// One platform per server process (survives dev hot reloads via globalThis).
const g = globalThis as unknown as { lucidPlatform?: Platform };

export function platform(): Platform {
  // nextCookies lets better-auth write its session cookie from server actions.
  g.lucidPlatform ??= createPlatform(loadConfig(), { authPlugins: [nextCookies()] });
  return g.lucidPlatform;
}
