import { z } from "zod";
import { ResolvedGenerationRequest } from "./generation.ts";

/** The SQS message that asks a worker to run a job. Versioned: workers reject unknown versions. */
export const JobMessageV1 = z.object({
  version: z.literal(1),
  jobId: z.string().uuid(),
  workspaceId: z.string().uuid(),
  request: ResolvedGenerationRequest,
  enqueuedAt: z.string().datetime(),
});
export type JobMessageV1 = z.infer<typeof JobMessageV1>;

export const JobMessage = JobMessageV1;
export type JobMessage = JobMessageV1;
