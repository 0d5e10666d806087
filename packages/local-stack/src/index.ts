import { startAws, type LocalAws } from "./aws.ts";
import { startPostgres, type LocalPostgres } from "./postgres.ts";
import { join } from "node:path";

export { startPostgres, POSTGRES_USER, POSTGRES_PASSWORD, DATABASE_NAME } from "./postgres.ts";
export type { StartPostgresOptions, LocalPostgres } from "./postgres.ts";
export { startAws, DEFAULT_QUEUE_NAME, DEFAULT_BUCKET, DEFAULT_REGION, MAX_RECEIVE_COUNT } from "./aws.ts";
export type { StartAwsOptions, LocalAws } from "./aws.ts";
export { freePort } from "./ports.ts";

export interface StartLocalStackOptions {
  /** Holds `postgres/` (the cluster) and `s3/` (stored objects). */
  dataDir: string;
  pgPort?: number;
  awsPort?: number;
}

export interface LocalStack extends Omit<LocalAws, "stop"> {
  databaseUrl: string;
  postgres: LocalPostgres;
  aws: LocalAws;
  stop(): Promise<void>;
}

/** PostgreSQL and the SQS/S3 emulator side by side, with data under one directory. */
export async function startLocalStack(opts: StartLocalStackOptions): Promise<LocalStack> {
  const [pgResult, awsResult] = await Promise.allSettled([
    startPostgres({ dataDir: join(opts.dataDir, "postgres"), port: opts.pgPort }),
    startAws({ dataDir: join(opts.dataDir, "s3"), port: opts.awsPort }),
  ]);
  if (pgResult.status === "rejected" || awsResult.status === "rejected") {
    if (pgResult.status === "fulfilled") await pgResult.value.stop();
    if (awsResult.status === "fulfilled") await awsResult.value.stop();
    throw pgResult.status === "rejected" ? pgResult.reason : (awsResult as PromiseRejectedResult).reason;
  }
  const postgres = pgResult.value;
  const aws = awsResult.value;
  const { stop: _stopAws, ...awsFields } = aws;
  return {
    ...awsFields,
    databaseUrl: postgres.databaseUrl,
    postgres,
    aws,
    stop: async () => {
      await Promise.all([aws.stop(), postgres.stop()]);
    },
  };
}
