/**
 * The worker's own settings, read from the environment beside the platform
 * config (@lucid/config). All are optional:
 *
 * - LUCID_WORKER_LEASE_SECONDS (60): how long a job claim holds without renewal;
 *   a job whose worker died is taken over this long after its last renewal.
 * - LUCID_WORKER_VISIBILITY_SECONDS (60): how long a received message stays hidden;
 *   the heartbeat extends it while a job runs, so it reappears this long after a crash.
 * - LUCID_WORKER_HEARTBEAT_SECONDS (visibility / 3): how often the heartbeat extends it.
 * - LUCID_WORKER_GRACE_SECONDS (30): on SIGTERM, how long the current job may run on;
 *   then it is aborted, queued again and its message made visible at once.
 *   (On ECS set the task's stopTimeout a few seconds above this.)
 * - LUCID_WORKER_METRICS_PORT (9464): Prometheus `/metrics`; 0 turns it off.
 * - LUCID_WORKER_DLQ_SWEEP_SECONDS (30): how often dead-lettered jobs are failed
 *   (needs LUCID_DLQ_URL); 0 turns the sweeper off.
 * - LUCID_WORKER_WAIT_SECONDS (20): SQS long-poll wait, 1–20.
 * - LUCID_WORKER_MAX_ATTEMPTS (5): transient failures before a job fails for good.
 * - LUCID_WORKER_HOUSEKEEPING_SECONDS (600): how often expired sessions, links,
 *   idempotency keys and old webhook history are deleted; 0 turns it off.
 */
export interface WorkerSettings {
  leaseSeconds: number;
  visibilitySeconds: number;
  heartbeatSeconds: number;
  graceSeconds: number;
  /** undefined: no metrics server. */
  metricsPort?: number;
  /** 0: no sweeper. */
  dlqSweepSeconds: number;
  waitTimeSeconds: number;
  maxAttempts: number;
  /** 0: no housekeeping. */
  housekeepingSeconds: number;
}

export class WorkerSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WorkerSettingsError";
  }
}

export function readWorkerSettings(env: Record<string, string | undefined> = process.env): WorkerSettings {
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === "") return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new WorkerSettingsError(`${name} must be a whole number from ${min} to ${max} (got "${raw}")`);
    }
    return value;
  };
  // SQS caps a message's visibility at 12 hours.
  const visibilitySeconds = int("LUCID_WORKER_VISIBILITY_SECONDS", 60, 2, 43_200);
  const heartbeatSeconds = int("LUCID_WORKER_HEARTBEAT_SECONDS", Math.max(1, Math.floor(visibilitySeconds / 3)), 1, 43_199);
  if (heartbeatSeconds >= visibilitySeconds) {
    throw new WorkerSettingsError(`LUCID_WORKER_HEARTBEAT_SECONDS (${heartbeatSeconds}) must be less than LUCID_WORKER_VISIBILITY_SECONDS (${visibilitySeconds})`);
  }
  const metricsPort = int("LUCID_WORKER_METRICS_PORT", 9464, 0, 65_535);
  return {
    leaseSeconds: int("LUCID_WORKER_LEASE_SECONDS", 60, 1, 86_400),
    visibilitySeconds,
    heartbeatSeconds,
    graceSeconds: int("LUCID_WORKER_GRACE_SECONDS", 30, 0, 86_400),
    metricsPort: metricsPort === 0 ? undefined : metricsPort,
    dlqSweepSeconds: int("LUCID_WORKER_DLQ_SWEEP_SECONDS", 30, 0, 86_400),
    waitTimeSeconds: int("LUCID_WORKER_WAIT_SECONDS", 20, 1, 20),
    maxAttempts: int("LUCID_WORKER_MAX_ATTEMPTS", 5, 1, 100),
    housekeepingSeconds: int("LUCID_WORKER_HOUSEKEEPING_SECONDS", 600, 0, 86_400),
  };
}
