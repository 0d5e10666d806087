import { test } from "node:test";
import assert from "node:assert/strict";
import pg from "pg";
import { S3Client, PutObjectCommand, GetObjectCommand } from "@aws-sdk/client-s3";
import { startLocalStack, type LocalStack } from "../src/index.ts";
import { scratchDir } from "./helpers.ts";

function s3For(stack: LocalStack): S3Client {
  return new S3Client({
    endpoint: stack.endpoint,
    region: stack.region,
    forcePathStyle: true,
    credentials: { accessKeyId: stack.accessKeyId, secretAccessKey: stack.secretAccessKey },
  });
}

test("a restart with the same dataDir keeps database rows and stored images", async () => {
  const dir = scratchDir("stack");
  try {
    const first = await startLocalStack({ dataDir: dir.path });
    const client = new pg.Client(first.databaseUrl);
    await client.connect();
    await client.query(`CREATE TABLE account (email text PRIMARY KEY); INSERT INTO account VALUES ('ada@example.com')`);
    await client.end();
    let s3 = s3For(first);
    await s3.send(new PutObjectCommand({ Bucket: first.bucket, Key: "images/ada.png", Body: "png bytes", ContentType: "image/png" }));
    s3.destroy();
    await first.stop();

    const second = await startLocalStack({ dataDir: dir.path });
    try {
      const reader = new pg.Client(second.databaseUrl);
      await reader.connect();
      const { rows } = await reader.query(`SELECT email FROM account`);
      await reader.end();
      assert.deepEqual(rows, [{ email: "ada@example.com" }]);
      s3 = s3For(second);
      const image = await s3.send(new GetObjectCommand({ Bucket: second.bucket, Key: "images/ada.png" }));
      assert.equal(await image.Body!.transformToString(), "png bytes");
      s3.destroy();
    } finally {
      await second.stop();
    }
  } finally {
    dir.remove();
  }
});
