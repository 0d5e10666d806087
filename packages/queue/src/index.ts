import {
  SQSClient,
  SendMessageCommand,
  SendMessageBatchCommand,
  GetQueueAttributesCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  type Message,
} from "@aws-sdk/client-sqs";
import { Consumer } from "sqs-consumer";
import type { JobMessage } from "@lucid/contracts";

export interface AwsConnection {
  region: string;
  endpoint?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
}

export function createSqsClient(aws: AwsConnection): SQSClient {
  return new SQSClient({
    region: aws.region,
    endpoint: aws.endpoint,
    credentials: aws.accessKeyId && aws.secretAccessKey ? { accessKeyId: aws.accessKeyId, secretAccessKey: aws.secretAccessKey } : undefined,
  });
}

/** Where jobs go after they are accepted. One interface; SQS is the adapter. */
export interface JobQueue {
  send(message: JobMessage): Promise<void>;
  /** Moves a raw message body to the dead-letter queue (malformed or poison messages). */
  sendToDeadLetter(body: string, reason: string): Promise<void>;
  health(): Promise<void>;
}

/** SQS takes at most 10 messages per SendMessageBatch. */
const SQS_MAX_BATCH = 10;
const MAX_BATCHES_IN_FLIGHT = 1;

export class SqsJobQueue implements JobQueue {
  constructor(
    readonly client: SQSClient,
    readonly queueUrl: string,
    readonly dlqUrl?: string,
  ) {}

  private waiting: Array<{ body: string; resolve: () => void; reject: (err: Error) => void }> = [];
  private batchesInFlight = 0;

  /**
   * Sends one job message. Concurrent sends share SendMessageBatch calls (up to
   * 10 messages each, at most MAX_BATCHES_IN_FLIGHT calls at once): a lone send
   * goes out at once, and under load each message costs a tenth of a request.
   * Resolves when SQS accepted this message; rejects with why it did not.
   */
  send(message: JobMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ body: JSON.stringify(message), resolve, reject });
      this.flush();
    });
  }

  private flush(): void {
    while (this.waiting.length > 0 && this.batchesInFlight < MAX_BATCHES_IN_FLIGHT) {
      const batch = this.waiting.splice(0, SQS_MAX_BATCH);
      this.batchesInFlight++;
      this.client
        .send(new SendMessageBatchCommand({ QueueUrl: this.queueUrl, Entries: batch.map((m, i) => ({ Id: String(i), MessageBody: m.body })) }))
        .then((out) => {
          const failed = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
          batch.forEach((m, i) => {
            const f = failed.get(String(i));
            if (f) m.reject(new Error(`SQS refused the message: ${f.Code ?? "error"} ${f.Message ?? ""}`.trim()));
            else m.resolve();
          });
        })
        .catch((err: Error) => batch.forEach((m) => m.reject(err)))
        .finally(() => {
          this.batchesInFlight--;
          this.flush();
        });
    }
  }

  async sendToDeadLetter(body: string, reason: string): Promise<void> {
    if (!this.dlqUrl) throw new Error("no dead-letter queue configured (LUCID_DLQ_URL)");
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.dlqUrl,
        MessageBody: body,
        MessageAttributes: { reason: { DataType: "String", StringValue: reason.slice(0, 1000) } },
      }),
    );
  }

  async health(): Promise<void> {
    await this.client.send(new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ["ApproximateNumberOfMessages"] }));
  }

  async approximateDepth(): Promise<{ visible: number; inFlight: number }> {
    const out = await this.client.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.queueUrl,
        AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
      }),
    );
    return {
      visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  }

  /** Makes a received message visible again at once (e.g. on shutdown). */
  async releaseMessage(receiptHandle: string): Promise<void> {
    await this.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: 0 }));
  }
}

/** A message the dead-letter queue holds, as the sweeper sees it. */
export interface DeadLetter {
  body: string;
  receiptHandle: string;
  messageId?: string;
  /** The reason attribute set by `sendToDeadLetter`, when the worker put it there itself. */
  reason?: string;
}

/** Reads and settles messages on the dead-letter queue (the worker's sweeper). */
export class DeadLetterQueue {
  constructor(
    readonly client: SQSClient,
    readonly queueUrl: string,
  ) {}

  async receive(opts: { max?: number; waitSeconds?: number; visibilitySeconds?: number } = {}): Promise<DeadLetter[]> {
    const out = await this.client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: opts.max ?? 10,
        WaitTimeSeconds: opts.waitSeconds ?? 0,
        VisibilityTimeout: opts.visibilitySeconds,
        MessageAttributeNames: ["All"],
      }),
    );
    return (out.Messages ?? []).map((m) => ({
      body: m.Body ?? "",
      receiptHandle: m.ReceiptHandle!,
      messageId: m.MessageId,
      reason: m.MessageAttributes?.reason?.StringValue,
    }));
  }

  async delete(receiptHandle: string): Promise<void> {
    await this.client.send(new DeleteMessageCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle }));
  }

  /** Hides the message for a while so it is looked at again later. */
  async postpone(receiptHandle: string, seconds: number): Promise<void> {
    await this.client.send(
      new ChangeMessageVisibilityCommand({ QueueUrl: this.queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: Math.max(0, Math.min(43_200, Math.ceil(seconds))) }),
    );
  }
}

export interface JobConsumerOptions {
  client: SQSClient;
  queueUrl: string;
  /** Resolves when the message is done with (it is then deleted); throws to leave it for redelivery. */
  handleMessage: (message: Message) => Promise<void>;
  onError?: (err: Error) => void;
  /** Errors thrown by handleMessage, with their message; without it they go to onError. */
  onProcessingError?: (err: Error, message: Message) => void;
  visibilityTimeoutSeconds?: number;
  heartbeatSeconds?: number;
  waitTimeSeconds?: number;
}

/**
 * Long-polls the jobs queue one message at a time (one GPU, one job), extending
 * the message's visibility while it runs so long jobs are not redelivered mid-run.
 */
export function createJobConsumer(opts: JobConsumerOptions): Consumer {
  const consumer = Consumer.create({
    sqs: opts.client,
    queueUrl: opts.queueUrl,
    batchSize: 1,
    waitTimeSeconds: opts.waitTimeSeconds ?? 20,
    visibilityTimeout: opts.visibilityTimeoutSeconds ?? 60,
    heartbeatInterval: opts.heartbeatSeconds ?? 20,
    handleMessageTimeout: undefined,
    shouldDeleteMessages: true,
    handleMessage: async (message) => {
      await opts.handleMessage(message);
      return message;
    },
  });
  consumer.on("error", (err) => opts.onError?.(err));
  consumer.on("processing_error", (err, message) => (opts.onProcessingError ? opts.onProcessingError(err, message) : opts.onError?.(err)));
  return consumer;
}

export type { Message };
