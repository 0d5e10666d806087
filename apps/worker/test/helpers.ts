// Shared by the worker's robustness tests: waiting on real state, never on the clock.
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { findBalanceMismatches, type Platform } from "@lucid/core";

/** Polls `probe` until it returns a value other than undefined/false; fails after `tries` polls. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false>, opts: { tries?: number; everyMs?: number } = {}): Promise<T> {
  const tries = opts.tries ?? 600;
  for (let i = 0; i < tries; i++) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    await sleep(opts.everyMs ?? 50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const jobRow = (p: Platform, jobId: string) => p.db.job.findUniqueOrThrow({ where: { id: jobId } });

export const balance = async (p: Platform, workspaceId: string) => (await p.db.workspace.findUniqueOrThrow({ where: { id: workspaceId } })).creditBalance;

/** The job was charged exactly once (or released exactly once) and every balance equals its ledger. */
export async function assertSettledOnce(p: Platform, jobId: string, kind: "capture" | "release"): Promise<void> {
  const entries = await p.db.creditEntry.findMany({ where: { jobId } });
  const kinds = entries.map((e) => e.kind).sort();
  assert.deepEqual(kinds, [kind, "reserve"].sort(), `ledger entries of job ${jobId}`);
  assert.deepEqual(await findBalanceMismatches(p.db), []);
}

/** Reads one Prometheus sample, e.g. `lucid_worker_jobs_total{outcome="succeeded"}`. */
export function metricValue(text: string, sample: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(`${sample} `)) return Number(line.slice(sample.length + 1));
  }
  return undefined;
}
