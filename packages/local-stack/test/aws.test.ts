import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  SQSClient,
  SendMessageCommand,
  ReceiveMessageCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
} from "@aws-sdk/client-sqs";
import { S3Client, PutObjectCommand, GetObjectCommand, DeleteObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { startAws, MAX_RECEIVE_COUNT, type LocalAws } from "../src/index.ts";
import { scratchDir } from "./helpers.ts";

function clients(aws: Omit<LocalAws, "stop">) {
  const config = {
    endpoint: aws.endpoint,
    region: aws.region,
    credentials: { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey },
  };
  return { sqs: new SQSClient(config), s3: new S3Client({ ...config, forcePathStyle: true }) };
}

describe("SQS emulator", () => {
  let aws: LocalAws;
  let sqs: SQSClient;
  before(async () => {
    aws = await startAws({ queueName: "sqs-test-jobs" });
    ({ sqs } = clients(aws));
  });
  after(async () => {
    sqs?.destroy();
    await aws?.stop();
  });

  test("listens on loopback only and names the jobs queue and its dead-letter queue", () => {
    assert.match(aws.endpoint, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(aws.queueUrl, `${aws.endpoint}/000000000000/sqs-test-jobs`);
    assert.equal(aws.dlqUrl, `${aws.endpoint}/000000000000/sqs-test-jobs-dlq`);
  });

  test("a sent message is received with its body and can be deleted", async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: aws.queueUrl, MessageBody: JSON.stringify({ jobId: "j1" }) }));
    const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: aws.queueUrl, WaitTimeSeconds: 1 }));
    assert.equal(Messages?.length, 1);
    assert.deepEqual(JSON.parse(Messages![0]!.Body!), { jobId: "j1" });
    await sqs.send(new DeleteMessageCommand({ QueueUrl: aws.queueUrl, ReceiptHandle: Messages![0]!.ReceiptHandle! }));
    const again = await sqs.send(new ReceiveMessageCommand({ QueueUrl: aws.queueUrl, VisibilityTimeout: 0 }));
    assert.equal(again.Messages?.length ?? 0, 0);
  });

  test("the jobs queue hides a received message for its visibility timeout", async () => {
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: aws.queueUrl, AttributeNames: ["VisibilityTimeout", "RedrivePolicy"] }),
    );
    assert.equal(Attributes?.VisibilityTimeout, "60");
    assert.equal(JSON.parse(Attributes!.RedrivePolicy!).maxReceiveCount, MAX_RECEIVE_COUNT);
  });

  test(`a message received ${MAX_RECEIVE_COUNT} times without deletion moves to the dead-letter queue`, async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: aws.queueUrl, MessageBody: "poison" }));
    for (let i = 1; i <= MAX_RECEIVE_COUNT; i++) {
      // VisibilityTimeout 0: the message is visible again at once, like a worker that crashed.
      const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: aws.queueUrl, VisibilityTimeout: 0 }));
      assert.equal(Messages?.[0]?.Body, "poison", `receive ${i}`);
    }
    const afterLimit = await sqs.send(new ReceiveMessageCommand({ QueueUrl: aws.queueUrl, VisibilityTimeout: 0 }));
    assert.equal(afterLimit.Messages?.length ?? 0, 0);
    const dead = await sqs.send(new ReceiveMessageCommand({ QueueUrl: aws.dlqUrl, WaitTimeSeconds: 1 }));
    assert.equal(dead.Messages?.[0]?.Body, "poison");
  });
});

describe("S3 emulator", () => {
  test("an object put is read back, also through a presigned GET URL", async () => {
    const aws = await startAws({});
    const { s3 } = clients(aws);
    try {
      const body = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);
      await s3.send(new PutObjectCommand({ Bucket: aws.bucket, Key: "ws/1/job/0.png", Body: body, ContentType: "image/png" }));
      const got = await s3.send(new GetObjectCommand({ Bucket: aws.bucket, Key: "ws/1/job/0.png" }));
      assert.equal(got.ContentType, "image/png");
      assert.deepEqual(await got.Body!.transformToByteArray(), body);

      const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: aws.bucket, Key: "ws/1/job/0.png" }), { expiresIn: 60 });
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("content-type"), "image/png");
      assert.deepEqual(new Uint8Array(await res.arrayBuffer()), body);
    } finally {
      s3.destroy();
      await aws.stop();
    }
  });

  test("objects and deletions persist in dataDir across a restart; queue contents do not", async () => {
    const dir = scratchDir("s3");
    try {
      const first = await startAws({ dataDir: dir.path });
      let { s3, sqs } = clients(first);
      await s3.send(new PutObjectCommand({ Bucket: first.bucket, Key: "keep.png", Body: "kept", ContentType: "image/png", Metadata: { seed: "42" } }));
      await s3.send(new PutObjectCommand({ Bucket: first.bucket, Key: "gone.png", Body: "deleted" }));
      await s3.send(new DeleteObjectCommand({ Bucket: first.bucket, Key: "gone.png" }));
      await sqs.send(new SendMessageCommand({ QueueUrl: first.queueUrl, MessageBody: "in flight" }));
      const etag = (await s3.send(new GetObjectCommand({ Bucket: first.bucket, Key: "keep.png" }))).ETag;
      s3.destroy();
      sqs.destroy();
      await first.stop();

      const second = await startAws({ dataDir: dir.path });
      ({ s3, sqs } = clients(second));
      try {
        const kept = await s3.send(new GetObjectCommand({ Bucket: second.bucket, Key: "keep.png" }));
        assert.equal(await kept.Body!.transformToString(), "kept");
        assert.equal(kept.ContentType, "image/png");
        assert.equal(kept.ETag, etag);
        assert.deepEqual(kept.Metadata, { seed: "42" });
        const listed = await s3.send(new ListObjectsV2Command({ Bucket: second.bucket }));
        assert.deepEqual(listed.Contents?.map((o) => o.Key), ["keep.png"]);
        const { Messages } = await sqs.send(new ReceiveMessageCommand({ QueueUrl: second.queueUrl }));
        assert.equal(Messages?.length ?? 0, 0);
      } finally {
        s3.destroy();
        sqs.destroy();
        await second.stop();
      }
    } finally {
      dir.remove();
    }
  });
});
