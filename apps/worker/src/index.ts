// @lucid/worker: the GPU worker's loop, for `main.ts` and for tests that run it in-process.
export { processJobMessage, newWorkerId, PermanentJobError, JobInterruptedError, type WorkerContext, type ProcessOptions } from "./process-job.ts";
export { startWorker, type RunningWorker, type WorkerLoopOptions } from "./worker.ts";
export { sweepDeadLetters, startDeadLetterSweeper, type DeadLetterSweepContext, type SweptDeadLetter } from "./dead-letters.ts";
export { WorkerMetrics, serveMetrics, type JobOutcome } from "./metrics.ts";
export { readWorkerSettings, WorkerSettingsError, type WorkerSettings } from "./settings.ts";
