/**
 * Writes the job records of one executor: a `running` record once a job's calls were invoked,
 * its call specs for `tswren replay` (small jobs), and the final record (state, counts, cost)
 * once every call ended. Writes never delay or fail a job: they run in the background, and a
 * failed write is only logged. `flush()` waits for them (before cleaning and closing).
 */
import type { TswrenConfig } from "../config/index.js";
import { computeSection } from "../config/sections.js";
import { costOf, type CostPrices } from "../cost.js";
import type { ResponseFuture } from "../future.js";
import type { Logger } from "../log.js";
import type { CallSpec, InvocationPayload, StorageRef } from "../protocol.js";
import { jobName } from "../progress/job-names.js";
import type { StorageBackend } from "../storage/backend.js";
import * as keys from "../storage/keys.js";
import { encodeCallSpecs } from "./call-specs.js";
import { JOB_RECORD_VERSION, thisClient, writeJobRecord, type JobRecord, type JobRecordState } from "./job-record.js";

/** What the recorder needs to know about a job just invoked. */
export interface RecordedJob {
  base: Omit<InvocationPayload, "calls" | "hostSubmitMs">;
  hostSubmitMs: number;
  futures: readonly ResponseFuture[];
  /** The call specs to keep for `tswren replay`, or null when the job is too large (see `keepCallSpecs`). */
  calls: readonly CallSpec[] | null;
  maxAttempts: number;
  callsPerInvocation: number;
  producesOutput: boolean;
  single: boolean;
}

/** Job records of one executor. */
export class JobRecorder {
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly config: TswrenConfig, private readonly log: Logger) {}

  /**
   * Record a job whose calls were just invoked, and its final state once they all ended.
   * @returns when the first record is written (serverless jobs wait for it, so a client that
   *   exits right after submitting leaves a job that can be attached)
   */
  submitted(storage: StorageBackend, ref: StorageRef, job: RecordedJob): Promise<void> {
    const { base } = job;
    const calls = job.calls;
    const replayable = calls !== null;
    const record: JobRecord = {
      recordVersion: JOB_RECORD_VERSION,
      executorId: base.executorId,
      jobId: base.jobId,
      functionName: jobName(base.executorId, base.jobId) ?? "",
      hostSubmitMs: job.hostSubmitMs,
      calls: job.futures.length,
      backend: this.config.tswren.backend,
      storage: { backend: ref.backend, bucket: ref.bucket, prefix: ref.prefix },
      maxAttempts: job.maxAttempts,
      callsPerInvocation: job.callsPerInvocation,
      producesOutput: job.producesOutput,
      single: job.single,
      client: thisClient(),
      state: "running",
      replayable,
      base: {
        protocolVersion: base.protocolVersion, tswrenVersion: base.tswrenVersion, executorId: base.executorId, jobId: base.jobId,
        funcKey: base.funcKey, funcHash: base.funcHash, moduleHashes: base.moduleHashes, dataKey: base.dataKey, inputKind: base.inputKind,
        timeoutMs: base.timeoutMs, memoryMb: base.memoryMb, extraEnv: base.extraEnv, hostJobCreateMs: base.hostJobCreateMs,
        ...(base.jobNonce !== undefined ? { jobNonce: base.jobNonce } : {}),
      },
    };
    const first = this.track(`record ${base.jobId}`, async () => {
      if (calls !== null) await storage.put(ref.bucket, keys.callSpecsKey(ref.prefix, base.executorId, base.jobId), encodeCallSpecs(calls));
      await writeJobRecord(storage, record);
    });
    let open = job.futures.length;
    const ended = (): void => {
      if (--open > 0) return;
      void first.then(() => this.track(`final record ${base.jobId}`, () => writeJobRecord(storage, this.finalRecord(record, job.futures))));
    };
    for (const f of job.futures) f.onSettled(ended);
    return first;
  }

  /** Wait for the record writes started so far. */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private finalRecord(record: JobRecord, futures: readonly ResponseFuture[]): JobRecord {
    const succeeded = futures.filter((f) => f.success).length;
    const cancelled = futures.some((f) => f.status === "cancelled");
    const state: JobRecordState = cancelled ? "cancelled" : succeeded === futures.length ? "done" : "failed";
    const backend = this.config.tswren.backend;
    const prices = computeSection(this.config, backend) as unknown as CostPrices;
    const c = costOf(futures, prices, backend, () => record.base.memoryMb);
    return { ...record, state, endedMs: Date.now(), succeeded, failed: futures.length - succeeded, cost: { gbSeconds: c.gbSeconds, usd: c.usd, billedSeconds: c.billedSeconds } };
  }

  private track(what: string, write: () => Promise<void>): Promise<void> {
    const p = write().catch((err: unknown) => { this.log.debug(() => `${what} not written: ${String(err)}`); });
    this.pending.add(p);
    void p.finally(() => this.pending.delete(p));
    return p;
  }
}
