/**
 * `attach(jobRef)`: futures for a job another process submitted (or a kernel before it
 * restarted), found by its job record. A storage monitor watches the job's statuses like the
 * submitting executor's would, so the futures wait, give results, show progress and time out
 * the same way. Calls of a localhost or docker job whose client process ended without them
 * fail with `TSWREN_JOB_DIED_WITH_CLIENT`; calls a finished record has no status for fail at
 * once (`TSWREN_CANCELLED` when the job was cancelled, else `TSWREN_CALL_LOST`).
 */
import type { TswrenConfig } from "../config/index.js";
import { ErrorCodes } from "../errors.js";
import { ResponseFuture } from "../future.js";
import { StatsTable } from "../job/stats-table.js";
import { resolveReturnedFutures } from "../job/returned-futures.js";
import { hasFutureRefs, noteFutureOrigin } from "../job/future-refs.js";
import { StoragePollMonitor, type PollSink, type WatchedCall } from "../monitor/storage-poll.js";
import type { CallStatus } from "../protocol.js";
import { nameJob } from "../progress/job-names.js";
import { deserializeValue } from "../serialize.js";
import type { StorageBackend } from "../storage/backend.js";
import { createSelectedStorage } from "../storage/registry.js";
import { clientBound, clientGone, parseJobRef, readJobRecord, type JobRecord } from "./job-record.js";

/** Time after a call's own timeout before a silent call counts as lost (as for the executor's own calls). */
const LOST_GRACE_MS = 10_000;
const START_ALLOWANCE_MS = 10_000;

/** A job reference: `"<executorId>-<jobId>"` (as `tswren jobs` prints it), or a future's ids. */
export type JobRef = string | { executorId: string; jobId: string };

/** Watches one attached job's statuses in storage and ends its futures. */
class AttachedJob implements PollSink {
  readonly futures: ResponseFuture[];
  private readonly table: StatsTable;
  private remaining: number;
  private monitor: StoragePollMonitor | null = null;
  /** Set once the record is final or its client ended: calls without a status end at the next pass. */
  private lastPassMs: number | null;

  constructor(readonly record: JobRecord, private readonly storage: StorageBackend, private readonly release: () => Promise<void>) {
    this.table = new StatsTable(record.calls);
    this.table.setAll("hostJobCreateMs", record.base.hostJobCreateMs);
    this.table.setAll("hostSubmitMs", record.hostSubmitMs);
    const ids = { executorId: record.executorId, jobId: record.jobId, single: record.single };
    this.futures = Array.from({ length: record.calls }, (_x, index) => new ResponseFuture({ ...ids, index }, this.table, record.producesOutput, { submitted: true }));
    this.remaining = record.calls;
    this.lastPassMs = record.state !== "running" ? Date.now() : null;
    noteFutureOrigin(this.futures, { jobNonce: record.base.jobNonce ?? "", bucket: record.storage.bucket, prefix: record.storage.prefix, maxAttempts: record.maxAttempts });
  }

  start(): void {
    if (this.remaining === 0) {
      void this.release();
      return;
    }
    this.monitor = new StoragePollMonitor(this.storage, { backend: this.storage.name, config: {}, bucket: this.record.storage.bucket, prefix: this.record.storage.prefix }, this.record.executorId, this);
    this.monitor.start();
  }

  hasWatchedCalls(): boolean {
    return this.remaining > 0;
  }

  jobNonce(jobId: string): string | undefined {
    return jobId === this.record.jobId ? this.record.base.jobNonce : undefined;
  }

  watchedCalls(): Map<string, WatchedCall[]> {
    if (this.lastPassMs === null && clientBound(this.record.backend) && clientGone(this.record.client)) this.lastPassMs = Date.now();
    const pending = this.futures.filter((f) => !f.done);
    return new Map([[this.record.jobId, pending.map((f) => this.watched(f))]]);
  }

  private watched(f: ResponseFuture): WatchedCall {
    const timeoutMs = this.record.base.timeoutMs;
    const started = f.stat("workerStartMs");
    const deadlineMs = this.lastPassMs ?? (started !== undefined
      ? started + timeoutMs + LOST_GRACE_MS
      : this.record.hostSubmitMs + timeoutMs * this.record.callsPerInvocation + START_ALLOWANCE_MS + LOST_GRACE_MS);
    return { callId: f.callId, attempt: f.attempt, deadlineMs, started: started !== undefined };
  }

  onStart(_jobId: string, callId: string, attempt: number, workerStartMs: number): void {
    const f = this.futures[Number.parseInt(callId, 10)];
    if (f !== undefined && attempt >= f.attempt) f.markRunning(workerStartMs);
  }

  onStatus(status: CallStatus): void {
    const f = this.futures[Number.parseInt(status.callId, 10)];
    if (f === undefined || f.done || status.attempt < f.attempt) return;
    if (!status.ok && status.attempt < this.record.maxAttempts && this.lastPassMs === null) {
      f.attempt = status.attempt + 1; // its client retries it: wait for the next attempt
      return;
    }
    this.ended();
    this.resolve(f, status).catch((err: unknown) => { f.failLocally(ErrorCodes.PROTOCOL, `its result could not be read: ${String(err)}`, "error", err); });
  }

  onLost(_jobId: string, callId: string, _attempt: number, message: string): void {
    const f = this.futures[Number.parseInt(callId, 10)];
    if (f === undefined || f.done) return;
    this.ended();
    const r = this.record;
    if (this.lastPassMs !== null && r.state === "cancelled") f.failLocally(ErrorCodes.CANCELLED, "its job was cancelled by the process that submitted it", "cancelled");
    else if (this.lastPassMs !== null && r.state === "running") f.failLocally(ErrorCodes.JOB_DIED_WITH_CLIENT, `the job ran on ${r.backend}, whose calls run in the process that submitted it (pid ${r.client.pid} on ${r.client.host}), and that process ended before the call did; run the job again, or use a serverless backend for jobs that must outlive the kernel`);
    else f.failLocally(ErrorCodes.CALL_LOST, this.lastPassMs !== null ? "its job ended without a status for this call (lost)" : message);
  }

  private ended(): void {
    if (--this.remaining > 0) return;
    this.monitor?.stop();
    void this.release();
  }

  private async resolve(f: ResponseFuture, status: CallStatus): Promise<void> {
    const hostStatusDoneMs = Date.now();
    if (!status.ok || status.result === undefined) {
      f.resolveWith(status, hostStatusDoneMs);
      return;
    }
    const bytes = status.result.kind === "inline" ? status.result.bytes : await this.storage.get(this.record.storage.bucket, status.result.key);
    const value = deserializeValue(bytes);
    if (!hasFutureRefs(value)) f.resolveWith(status, hostStatusDoneMs, value);
    else await resolveReturnedFutures(f, status, value, { storage: this.storage, stopped: () => f.done });
  }
}

/**
 * Futures of a job found by its record in the configured storage (bucket and prefix).
 * @param config - the configuration whose storage holds the job
 * @param ref - `"<executorId>-<jobId>"` or `{ executorId, jobId }`
 * @param storage - a storage backend to use (not closed); default: one opened (and closed once
 *   every call ended) from `config`
 * @throws TswrenError `TSWREN_BAD_INPUT` (not a job reference), `TSWREN_NO_SUCH_JOB`
 */
export async function attachJob(config: TswrenConfig, ref: JobRef, storage?: StorageBackend): Promise<{ record: JobRecord; futures: ResponseFuture[] }> {
  const ids = parseJobRef(ref);
  const store = storage ?? (await createSelectedStorage(config));
  const close = async (): Promise<void> => { if (storage === undefined) await store.close(); };
  try {
    const record = await readJobRecord(store, config.tswren.storage_bucket, config.tswren.storage_prefix, ids);
    nameJob(record.executorId, record.jobId, record.functionName === "" ? undefined : record.functionName);
    const job = new AttachedJob(record, store, close);
    job.start();
    return { record, futures: job.futures };
  } catch (err) {
    await close();
    throw err;
  }
}
