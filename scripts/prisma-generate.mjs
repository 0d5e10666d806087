// Generates the Prisma client at install time, offline.
// Prisma's CLI wants to download its native schema engine before any command,
// even `generate`, which never calls it: point it at a stub so no download happens.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;
if (!existsSync(join(root, "node_modules/prisma"))) process.exit(0);
const stubDir = join(root, "node_modules/.cache/lucid");
mkdirSync(stubDir, { recursive: true });
const stub = join(stubDir, "schema-engine-stub");
writeFileSync(stub, "#!/bin/sh\necho 'schema engine not used: migrations run through @prisma/schema-engine-wasm' >&2\nexit 1\n");
chmodSync(stub, 0o755);
execFileSync(join(root, "node_modules/.bin/prisma"), ["generate"], {
  cwd: root,
  stdio: "inherit",
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY ?? stub,
    CHECKPOINT_DISABLE: "1",
    PRISMA_HIDE_UPDATE_MESSAGE: "1",
  },
});
