import type { NextConfig } from "next";
import { fileURLToPath } from "node:url";

const nextConfig: NextConfig = {
  // Workspace packages export TypeScript source; Next compiles them.
  transpilePackages: ["@lucid/config", "@lucid/contracts", "@lucid/core", "@lucid/db", "@lucid/queue", "@lucid/storage"],
  // Native or Node-only libraries stay outside the bundle.
  serverExternalPackages: ["@node-rs/argon2", "@prisma/client", "@prisma/adapter-pg", "pg", "stripe", "@aws-sdk/client-sqs", "@aws-sdk/client-s3"],
  turbopack: { root: fileURLToPath(new URL("../..", import.meta.url)) },
  poweredByHeader: false,
  typescript: { ignoreBuildErrors: false },
};
export default nextConfig;
