import { buildApp } from "fauxqs";
import type { AddressInfo } from "node:net";
import { PersistentS3Store, loadFauxqsStores } from "./s3-persistence.ts";

export interface StartAwsOptions {
  /** Where S3 objects persist across restarts; omitted: objects live in memory only. */
  dataDir?: string;
  /** 0 or omitted: a free port on 127.0.0.1. */
  port?: number;
  /** Jobs queue name; its dead-letter queue is `<queueName>-dlq`. */
  queueName?: string;
  bucket?: string;
  region?: string;
  /** Jobs queue visibility timeout, seconds. */
  visibilityTimeoutSeconds?: number;
}

export interface LocalAws {
  /** One endpoint for SQS and S3 (use `forcePathStyle: true` for S3). */
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  queueUrl: string;
  dlqUrl: string;
  bucket: string;
  stop(): Promise<void>;
}

export const DEFAULT_QUEUE_NAME = "lucid-jobs";
export const DEFAULT_BUCKET = "lucid-images";
export const DEFAULT_REGION = "us-east-1";
/** Jobs that fail this many receives move to the dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;
// The emulator's fixed account id, which appears in its queue URLs and ARNs.
const ACCOUNT_ID = "000000000000";

/**
 * Starts the fauxqs SQS/S3 emulator on 127.0.0.1 with the jobs queue, its
 * dead-letter queue and the images bucket. The emulator accepts any
 * credentials; the returned ones are placeholders for the AWS SDK.
 */
export async function startAws(opts: StartAwsOptions = {}): Promise<LocalAws> {
  const region = opts.region ?? DEFAULT_REGION;
  const queueName = opts.queueName ?? DEFAULT_QUEUE_NAME;
  const dlqName = `${queueName}-dlq`;
  const bucket = opts.bucket ?? DEFAULT_BUCKET;

  const { SqsStore, SnsStore, S3Store } = await loadFauxqsStores();
  const s3Store = opts.dataDir ? await PersistentS3Store.open(opts.dataDir) : new S3Store();
  const sqsStore = new SqsStore();
  const app = buildApp({
    logger: false,
    defaultRegion: region,
    stores: { sqsStore, snsStore: new SnsStore(), s3Store } as never,
  });
  // startFauxqs() always binds 0.0.0.0; building the app ourselves keeps it on loopback.
  await app.listen({ port: opts.port ?? 0, host: "127.0.0.1" });
  const { port } = app.server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;

  const queueUrl = (name: string) => `${endpoint}/${ACCOUNT_ID}/${name}`;
  const queueArn = (name: string) => `arn:aws:sqs:${region}:${ACCOUNT_ID}:${name}`;
  sqsStore.createQueue(dlqName, queueUrl(dlqName), queueArn(dlqName), {
    MessageRetentionPeriod: "1209600",
  });
  sqsStore.createQueue(queueName, queueUrl(queueName), queueArn(queueName), {
    VisibilityTimeout: String(opts.visibilityTimeoutSeconds ?? 60),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: queueArn(dlqName), maxReceiveCount: MAX_RECEIVE_COUNT }),
  });
  s3Store.createBucket(bucket);

  let stopped: Promise<void> | undefined;
  return {
    endpoint,
    region,
    accessKeyId: "lucid-local",
    secretAccessKey: "lucid-local-secret",
    queueUrl: queueUrl(queueName),
    dlqUrl: queueUrl(dlqName),
    bucket,
    stop: () => (stopped ??= app.close()),
  };
}
