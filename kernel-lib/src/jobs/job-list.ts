/**
 * Recent jobs with their state, from the job records (`tswren jobs`, `listJobs()`). A record still
 * `running` is checked against storage (how many calls wrote a status) and, on localhost and
 * docker, against its client process: a job whose client ended shows `died with client`.
 */
import type { TswrenConfig } from "../config/index.js";
import type { StorageBackend } from "../storage/backend.js";
import { createSelectedStorage } from "../storage/registry.js";
import { readJobStatuses } from "../storage/status-records.js";
import { clientBound, clientGone, jobRefOf, listJobRecords, type JobRecord, type JobRecordCost } from "./job-record.js";

/**
 * A job's state as `tswren jobs` shows it: the record's final state; `running`; `ended` when every
 * call wrote a status but the client never wrote the final record (it exited without waiting);
 * `died with client` for a localhost or docker job whose client ended first.
 */
export type JobState = JobRecord["state"] | "ended" | "died with client";

/** One line of `tswren jobs`. */
export interface JobSummary {
  /** `<executorId>-<jobId>`: what `attach` and `tswren logs` take. */
  ref: string;
  executorId: string;
  jobId: string;
  functionName: string;
  hostSubmitMs: number;
  calls: number;
  /** Calls with a final status in storage (for running jobs; all calls for finished ones). */
  ended: number;
  backend: string;
  state: JobState;
  /** Final jobs only. */
  cost?: JobRecordCost;
}

async function endedCalls(storage: StorageBackend, r: JobRecord): Promise<number> {
  // `status.json` per call, or status batches (localhost).
  return (await readJobStatuses(storage, { bucket: r.storage.bucket, prefix: r.storage.prefix, executorId: r.executorId, jobId: r.jobId })).size;
}

async function summarize(storage: StorageBackend, r: JobRecord): Promise<JobSummary> {
  const base = { ref: jobRefOf(r), executorId: r.executorId, jobId: r.jobId, functionName: r.functionName, hostSubmitMs: r.hostSubmitMs, calls: r.calls, backend: r.backend };
  if (r.state !== "running") return { ...base, ended: (r.succeeded ?? 0) + (r.failed ?? 0), state: r.state, ...(r.cost !== undefined ? { cost: r.cost } : {}) };
  const ended = await endedCalls(storage, r).catch(() => 0);
  const died = clientBound(r.backend) && clientGone(r.client) && ended < r.calls;
  return { ...base, ended, state: died ? "died with client" : ended >= r.calls ? "ended" : "running" };
}

/**
 * The most recent jobs in the configured storage (bucket and prefix), newest first.
 * @param limit - at most this many (default 20)
 */
export async function listJobs(config: TswrenConfig, limit = 20): Promise<JobSummary[]> {
  const storage = await createSelectedStorage(config);
  try {
    const records = await listJobRecords(storage, config.tswren.storage_bucket, config.tswren.storage_prefix, limit);
    return await Promise.all(records.map((r) => summarize(storage, r)));
  } finally {
    await storage.close();
  }
}

/** `1.2 GB-s $0.0001` for a cost, `-` without. */
export function formatCost(cost: JobRecordCost | undefined): string {
  if (cost === undefined) return "-";
  return `${cost.gbSeconds.toFixed(cost.gbSeconds < 10 ? 3 : 1)} GB-s $${cost.usd.toFixed(cost.usd < 0.01 ? 6 : 4)}`;
}

/** The table `tswren jobs` prints. */
export function formatJobTable(jobs: readonly JobSummary[]): string[] {
  if (jobs.length === 0) return ["no jobs recorded in this storage (bucket and prefix of the current config)"];
  const rows = jobs.map((j) => [j.ref, j.functionName === "" ? "(anonymous)" : j.functionName, new Date(j.hostSubmitMs).toISOString().replace("T", " ").slice(0, 19), `${j.ended}/${j.calls}`, j.backend, j.state, formatCost(j.cost)]);
  const head = ["JOB", "FUNCTION", "SUBMITTED (UTC)", "CALLS", "BACKEND", "STATE", "COST"];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(head), ...rows.map(line)];
}
