import { failAbandonedJob, isUuid, type AbandonedJobOutcome, type Platform } from "@lucid/core";
import type { DeadLetterQueue } from "@lucid/queue";
import type { Logger } from "pino";
import type { WorkerMetrics } from "./metrics.ts";
import { startRepeating } from "./repeating.ts";

export interface DeadLetterSweepContext {
  platform: Platform;
  log: Logger;
  metrics?: WorkerMetrics;
  /** How long a live worker may hold a job: a dead letter for a job still leased is looked at again after this. */
  leaseMs: number;
}

export interface SweptDeadLetter {
  messageId?: string;
  jobId?: string;
  /** What became of the job: `failed` by this sweep, already `finished`, still `leased` (message kept), or no job. */
  outcome: AbandonedJobOutcome | "no_job";
}

/** Raw bodies are logged, since deleting the message leaves the log as its record. */
const MAX_LOGGED_BODY = 16_384;

/**
 * One pass over the dead-letter queue. SQS moved these messages there after
 * too many receives (or the worker did, for unreadable ones): each job they
 * name that nobody is working on ends failed with code `dead_lettered` and its
 * credits released. The message is then deleted (the job is terminal, the log
 * keeps the raw body); a job a live worker still holds keeps its message for
 * a later pass.
 */
export async function sweepDeadLetters(ctx: DeadLetterSweepContext, dlq: DeadLetterQueue, opts: { maxBatches?: number } = {}): Promise<SweptDeadLetter[]> {
  const swept: SweptDeadLetter[] = [];
  for (let batch = 0; batch < (opts.maxBatches ?? 10); batch++) {
    const letters = await dlq.receive({ max: 10, waitSeconds: 0, visibilitySeconds: 30 });
    if (letters.length === 0) break;
    for (const letter of letters) {
      const jobId = jobIdOf(letter.body);
      const letterLog = ctx.log.child({ jobId, messageId: letter.messageId });
      letterLog.warn({ body: letter.body.slice(0, MAX_LOGGED_BODY), reason: letter.reason }, "dead-lettered message");
      if (!jobId) {
        await dlq.delete(letter.receiptHandle);
        swept.push({ messageId: letter.messageId, outcome: "no_job" });
        continue;
      }
      const outcome = await failAbandonedJob(ctx.platform, jobId, {
        code: "dead_lettered",
        message: "The job could not be completed after several attempts. You were not charged.",
      });
      if (outcome === "leased") {
        letterLog.info("job is still held by a live worker; looking at its dead letter again later");
        await dlq.postpone(letter.receiptHandle, ctx.leaseMs / 1000 + 1);
      } else {
        if (outcome === "failed") {
          ctx.metrics?.job("dead_lettered");
          letterLog.error("job dead-lettered: failed and its credits released");
        }
        await dlq.delete(letter.receiptHandle);
      }
      swept.push({ messageId: letter.messageId, jobId, outcome });
    }
  }
  return swept;
}

function jobIdOf(body: string): string | undefined {
  try {
    const jobId = (JSON.parse(body) as { jobId?: unknown } | null)?.jobId;
    return typeof jobId === "string" && isUuid(jobId) ? jobId : undefined;
  } catch {
    return undefined;
  }
}

/** Runs `sweepDeadLetters` now and then every `intervalMs` until stopped; a failed pass is logged and retried next time. */
export function startDeadLetterSweeper(ctx: DeadLetterSweepContext, dlq: DeadLetterQueue, intervalMs: number): { stop(): Promise<void> } {
  return startRepeating(async () => {
    await sweepDeadLetters(ctx, dlq).catch((err) => ctx.log.warn({ err }, "dead-letter sweep failed"));
    return intervalMs;
  }, intervalMs);
}
