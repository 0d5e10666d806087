import { createHash } from "node:crypto";
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";

/*
 * fauxqs keeps S3 objects in memory only and has no persistence option. Its
 * `buildApp` accepts the stores it serves from, so this file subclasses its
 * S3Store with a write-through copy on disk, loaded back on start. The store
 * classes are not in fauxqs' public exports, so they are imported by file
 * path from the installed package (pinned to 1.9.2).
 */

interface S3ObjectRecord {
  key: string;
  body: Buffer;
  contentType: string;
  contentLength: number;
  etag: string;
  lastModified: Date;
  metadata: Record<string, string>;
}

interface S3StoreInternals {
  createBucket(name: string): void;
  deleteBucket(name: string): void;
  hasBucket(name: string): boolean;
  putObject(bucket: string, key: string, body: Buffer, contentType?: string, metadata?: Record<string, string>): S3ObjectRecord;
  deleteObject(bucket: string, key: string): void;
  completeMultipartUpload(uploadId: string, parts: { partNumber: number; etag: string }[]): S3ObjectRecord;
  multipartUploads: Map<string, { bucket: string }>;
}

interface SqsStoreInternals {
  createQueue(name: string, url: string, arn: string, attributes?: Record<string, string>): unknown;
}

type Ctor<T> = new () => T;

async function importFauxqsInternal<T>(relativePath: string): Promise<T> {
  const entry = import.meta.resolve("fauxqs"); // .../fauxqs/dist/app.js
  return (await import(new URL(relativePath, entry).href)) as T;
}

export async function loadFauxqsStores() {
  const [{ S3Store }, { SqsStore }, { SnsStore }] = await Promise.all([
    importFauxqsInternal<{ S3Store: Ctor<S3StoreInternals> }>("./s3/s3Store.js"),
    importFauxqsInternal<{ SqsStore: Ctor<SqsStoreInternals> }>("./sqs/sqsStore.js"),
    importFauxqsInternal<{ SnsStore: Ctor<object> }>("./sns/snsStore.js"),
  ]);
  return { S3Store, SqsStore, SnsStore };
}

const { S3Store } = await loadFauxqsStores();

/**
 * One directory per bucket; one file per object, named by the SHA-256 of its
 * key (keys can be longer than a file name may be): a 4-byte header length, a
 * JSON header (key, content type, metadata, etag, last modified), the body.
 * Written to a temp file and renamed, so an object is on disk whole or not at
 * all (a .tmp left by a crash is never loaded).
 */
export class PersistentS3Store extends S3Store {
  private constructor(private readonly dir: string) {
    super();
  }

  static async open(dataDir: string): Promise<PersistentS3Store> {
    const dir = resolve(dataDir);
    await mkdir(dir, { recursive: true });
    const store = new PersistentS3Store(dir);
    for (const bucket of await readdir(dir, { withFileTypes: true })) {
      if (!bucket.isDirectory()) continue;
      S3Store.prototype.createBucket.call(store, bucket.name);
      const bucketDir = join(dir, bucket.name);
      for (const file of await readdir(bucketDir)) {
        if (!file.endsWith(".obj")) continue;
        const { header, body } = decodeObject(await readFile(join(bucketDir, file)));
        const obj = S3Store.prototype.putObject.call(store, bucket.name, header.key, body, header.contentType, header.metadata);
        obj.etag = header.etag;
        obj.lastModified = new Date(header.lastModified);
      }
    }
    return store;
  }

  override createBucket(name: string): void {
    super.createBucket(name);
    mkdirSync(join(this.dir, name), { recursive: true });
  }

  override deleteBucket(name: string): void {
    super.deleteBucket(name);
    rmSync(join(this.dir, name), { recursive: true, force: true });
  }

  override putObject(bucket: string, key: string, body: Buffer, contentType?: string, metadata?: Record<string, string>) {
    const obj = super.putObject(bucket, key, body, contentType, metadata);
    this.persist(bucket, obj);
    return obj;
  }

  override completeMultipartUpload(uploadId: string, parts: { partNumber: number; etag: string }[]) {
    const bucket = this.multipartUploads.get(uploadId)?.bucket;
    const obj = super.completeMultipartUpload(uploadId, parts);
    if (bucket) this.persist(bucket, obj);
    return obj;
  }

  override deleteObject(bucket: string, key: string): void {
    super.deleteObject(bucket, key);
    rmSync(this.objectPath(bucket, key), { force: true });
  }

  private objectPath(bucket: string, key: string): string {
    return join(this.dir, bucket, `${createHash("sha256").update(key).digest("hex")}.obj`);
  }

  // Synchronous so the object is on disk before the emulator answers the request.
  private persist(bucket: string, obj: S3ObjectRecord): void {
    const path = this.objectPath(bucket, obj.key);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, encodeObject(obj));
    renameSync(tmp, path);
  }
}

interface ObjectHeader {
  key: string;
  contentType: string;
  metadata: Record<string, string>;
  etag: string;
  lastModified: string;
}

function encodeObject(obj: S3ObjectRecord): Buffer {
  const header: ObjectHeader = {
    key: obj.key,
    contentType: obj.contentType,
    metadata: obj.metadata,
    etag: obj.etag,
    lastModified: obj.lastModified.toISOString(),
  };
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length);
  return Buffer.concat([length, json, obj.body]);
}

function decodeObject(file: Buffer): { header: ObjectHeader; body: Buffer } {
  const length = file.readUInt32BE(0);
  const header = JSON.parse(file.subarray(4, 4 + length).toString("utf8")) as ObjectHeader;
  return { header, body: file.subarray(4 + length) };
}
