/**
 * Storage-polling monitor: for backends without a channel of their own (OpenWhisk), the client
 * lists each active job's prefix, reads the `status.json` of calls that ended (and the status
 * batches the localhost backend writes instead), and notices calls
 * that started. It also enforces deadlines: a call that has not reported by its deadline (a lost
 * activation, a platform timeout) is reported lost, so nothing ever hangs.
 */
import { decodeStatus } from "../protocol.js";
import type { StorageRef } from "../protocol.js";
import type { ObjectInfo, StorageBackend } from "../storage/backend.js";
import { decodeStatusBatch } from "../storage/status-records.js";
import * as keys from "../storage/keys.js";
import type { Monitor, MonitorSink } from "./monitor.js";
import { isCurrentJob } from "./nonce.js";
import { ReportOnce } from "./report-once.js";
import { showOnly } from "../security/opaque.js";

/** A call the monitor still waits for. */
export interface WatchedCall {
  callId: string;
  attempt: number;
  /** When the call must have reported by (ms since epoch); past it, it is lost. */
  deadlineMs: number;
  /** True once its start was seen. */
  started: boolean;
}

/** What the storage monitor needs from the executor. */
export interface PollSink extends MonitorSink {
  /** Calls not ended yet, by job id. */
  watchedCalls(): Map<string, WatchedCall[]>;
  /** True when {@link watchedCalls} would not be empty (cheap). */
  hasWatchedCalls(): boolean;
  /** A call missed its deadline. */
  onLost(jobId: string, callId: string, attempt: number, message: string): void;
}

/** Polling cadence. */
export interface PollOptions {
  /** First interval after activity, ms. */
  minIntervalMs: number;
  /** Longest interval when nothing changes, ms. */
  maxIntervalMs: number;
}

/** Default cadence: quick while statuses arrive, backing off to 2 s (Lithops' remote period). */
export const DEFAULT_POLL: PollOptions = { minIntervalMs: 50, maxIntervalMs: 2000 };

/** Polls storage for one executor's statuses until stopped. */
export class StoragePollMonitor implements Monitor {
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private intervalMs: number;
  private readonly seenStarts = new Set<string>();
  private readonly readBatchKeys = new Set<string>();
  private readonly once = new ReportOnce();
  /** Storage requests made, for benchmarks. */
  requests = 0;

  /**
   * @param storage - the job storage
   * @param ref - bucket and prefix of the job keys
   * @param executorId - whose jobs to watch
   * @param sink - receives starts, statuses and lost calls
   * @param options - polling cadence
   */
  constructor(
    private readonly storage: StorageBackend,
    private readonly ref: StorageRef,
    private readonly executorId: string,
    private readonly sink: PollSink,
    private readonly options: PollOptions = DEFAULT_POLL,
  ) {
    showOnly(this, "StoragePollMonitor", () => ({ executorId: this.executorId, bucket: this.ref.bucket, prefix: this.ref.prefix, requests: this.requests }));
    this.intervalMs = options.minIntervalMs;
  }

  start(): void {
    this.running = true;
    this.nudge();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** Poll soon (new calls were submitted). */
  nudge(): void {
    if (!this.running) return;
    this.intervalMs = this.options.minIntervalMs;
    this.schedule();
  }

  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), this.intervalMs);
    // Keep the process alive only while calls are awaited.
    if (!this.sink.hasWatchedCalls()) this.timer.unref();
  }

  private async tick(): Promise<void> {
    this.timer = null;
    if (!this.running) return;
    let changed = false;
    try {
      changed = await this.poll();
    } catch {
      // Storage unreachable for a moment: deadlines still apply below, so nothing hangs.
    }
    this.expire();
    if (!this.running) return;
    this.intervalMs = changed ? this.options.minIntervalMs : Math.min(this.options.maxIntervalMs, this.intervalMs * 2);
    this.schedule();
  }

  /** One pass over every job with calls pending; returns true when something was found. */
  private async poll(): Promise<boolean> {
    let changed = false;
    for (const [jobId, calls] of this.sink.watchedCalls()) {
      if (calls.length === 0) continue;
      const prefix = keys.jobPrefix(this.ref.prefix, this.executorId, jobId);
      this.requests++;
      const listed = await this.storage.list(this.ref.bucket, prefix);
      const present = new Map(listed.map((o) => [o.key, o]));
      if (await this.readBatches(jobId, listed, calls)) changed = true;
      for (const call of calls) {
        const statusKey = keys.statusKey(this.ref.prefix, this.executorId, jobId, call.callId);
        if (present.has(statusKey)) {
          this.requests++;
          const status = decodeStatus((await this.storage.get(this.ref.bucket, statusKey)).toString("utf8"));
          // A status of another job under the same key (stale or forged) is not this call's.
          if (isCurrentJob(this.sink, jobId, status.jobNonce) && status.jobId === jobId && status.callId === call.callId && status.attempt >= call.attempt) {
            if (this.once.status(status)) this.sink.onStatus(status);
            changed = true;
          }
          continue;
        }
        const start = present.get(keys.startKey(this.ref.prefix, this.executorId, jobId, call.callId));
        const startId = `${jobId}/${call.callId}/${call.attempt}`;
        if (start !== undefined && !call.started && !this.seenStarts.has(startId)) {
          this.seenStarts.add(startId);
          if (this.once.start(jobId, call.callId, call.attempt)) this.sink.onStart(jobId, call.callId, call.attempt, start.lastModifiedMs);
          changed = true;
        }
      }
    }
    return changed;
  }

  /**
   * Deliver the statuses of watched calls found in status batches not read before (batches never
   * change once written); returns true when one was delivered.
   */
  private async readBatches(jobId: string, listed: readonly ObjectInfo[], calls: readonly WatchedCall[]): Promise<boolean> {
    const fresh = listed.filter((o) => keys.isStatusBatchKey(o.key) && !this.readBatchKeys.has(o.key));
    if (fresh.length === 0) return false;
    const watched = new Map(calls.map((c) => [c.callId, c]));
    let changed = false;
    for (const o of fresh) {
      this.requests++;
      const statuses = await decodeStatusBatch(await this.storage.get(this.ref.bucket, o.key));
      this.readBatchKeys.add(o.key);
      for (const status of statuses) {
        const call = watched.get(status.callId);
        if (call === undefined || status.attempt < call.attempt || status.jobId !== jobId || !isCurrentJob(this.sink, jobId, status.jobNonce)) continue;
        if (this.once.status(status)) this.sink.onStatus(status);
        changed = true;
      }
    }
    return changed;
  }

  private expire(): void {
    const now = Date.now();
    for (const [jobId, calls] of this.sink.watchedCalls()) {
      for (const call of calls) {
        if (now <= call.deadlineMs) continue;
        const why = call.started ? "it started but never reported an end" : "it never started";
        this.sink.onLost(jobId, call.callId, call.attempt, `no status by its deadline (${why}): the activation was lost or killed by the platform; raise \`timeout\` if the function needs longer`);
      }
    }
  }
}
