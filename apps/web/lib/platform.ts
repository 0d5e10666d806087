import { loadConfig } from "@lucid/config";
import { createPlatform, type Platform } from "@lucid/core";

// One platform per server process (survives dev hot reloads via globalThis).
const g = globalThis as unknown as { lucidPlatform?: Platform };

export function platform(): Platform {
  g.lucidPlatform ??= createPlatform(loadConfig());
  return g.lucidPlatform;
}
