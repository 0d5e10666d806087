import { S3Client, PutObjectCommand, GetObjectCommand, HeadBucketCommand, NoSuchKey } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

export interface AwsConnection {
  region: string;
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

/** Where generated images live. One interface; S3 is the adapter. */
export interface ImageStore {
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
  /** The object's bytes, or null when it does not exist. */
  get(key: string): Promise<{ body: Uint8Array; contentType: string } | null>;
  /** A short-lived URL anyone holding it can GET. */
  signedUrl(key: string, expiresInSeconds?: number): Promise<string>;
  health(): Promise<void>;
}

export class S3ImageStore implements ImageStore {
  readonly client: S3Client;
  constructor(
    aws: AwsConnection,
    readonly bucket: string,
  ) {
    this.client = new S3Client({
      region: aws.region,
      endpoint: aws.endpoint,
      // Emulators and MinIO serve buckets by path; AWS accepts both.
      forcePathStyle: Boolean(aws.endpoint),
      credentials: aws.accessKeyId && aws.secretAccessKey ? { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey } : undefined,
    });
  }

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  async get(key: string): Promise<{ body: Uint8Array; contentType: string } | null> {
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      const body = await out.Body!.transformToByteArray();
      return { body, contentType: out.ContentType ?? "application/octet-stream" };
    } catch (err) {
      if (err instanceof NoSuchKey || (err as { name?: string }).name === "NoSuchKey") return null;
      throw err;
    }
  }

  async signedUrl(key: string, expiresInSeconds = 900): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.bucket, Key: key }), { expiresIn: expiresInSeconds });
  }

  async health(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }
}
