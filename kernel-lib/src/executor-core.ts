/**
 * The executor's internal state: backends, jobs, futures, uploads, retries and status handling.
 * `FunctionExecutor` validates at the public boundary and delegates here.
 */
import { randomBytes } from "node:crypto";
import type { StagedPayload } from "./compute/backend.js";
import { computeSection } from "./config/sections.js";
import { createBackends, type Backends } from "./executor-backends.js";
import type { TswrenConfig } from "./config/index.js";
import { ErrorCodes, TswrenError } from "./errors.js";
import type { ReplaySource } from "./replay.js";
import { ResponseFuture, type JobSubmitState } from "./future.js";
import { jobId as makeJobId, type JobKind } from "./ids.js";
import { invokeCalls, usesRemoteInvoker } from "./invoker.js";
import { StatsTable } from "./job/stats-table.js";
import type { JobRequest } from "./executor-types.js";
import { watchedCall } from "./monitor/deadlines.js";
import { addMapJobNonces } from "./job/reduce.js";
import type { PollSink, WatchedCall } from "./monitor/storage-poll.js";
import { PROTOCOL_VERSION, failedStatus, type CallSpec, type CallStatus, type InvocationPayload } from "./protocol.js";
import { deserializeValue } from "./serialize.js";
import * as keys from "./storage/keys.js";
import { TSWREN_VERSION } from "./version.js";
import { Submissions } from "./submissions.js";
import { shareableConfig } from "./job/call-config.js";
import { noteSubmitted } from "./job/inner-failures.js";
import { hasFutureRefs, resolveReturnedFutures } from "./job/returned-futures.js";
import { ContentUploads } from "./job/content-uploads.js";
import { stagePayload } from "./job/staging.js";
import { effectiveLogLevel, Logger } from "./log.js";
import { JobRecorder } from "./jobs/recorder.js";
import { keepCallSpecs } from "./jobs/call-specs.js";
import { clientBound } from "./jobs/job-record.js";
import { cleanExecutorKeys } from "./job/clean-executor.js";
import { costOf, type CostPrices, type CostReport } from "./cost.js";
import { showOnly } from "./security/opaque.js";


interface JobRecord {
  futures: ResponseFuture[];
  /** The job's stats, shared by its futures. */
  table: StatsTable;
  /** Set once the whole job was submitted (its futures then read as "invoked"). */
  submitState: JobSubmitState;
  base: Omit<InvocationPayload, "calls" | "hostSubmitMs">;
  /** Call specs by index, dropped once a call's final status arrived (retries need them until then). */
  calls: Array<CallSpec | undefined>;
  maxAttempts: number;
  /** Calls one invocation carries (deadlines of calls queued behind others in an activation). */
  callsPerInvocation: number;
  /** Calls whose final status has not arrived yet. */
  remaining: number;
}

/** Internal state of one executor. */
export class ExecutorCore implements PollSink {
  readonly executorId: string;
  readonly config: TswrenConfig;
  /** Jobs accepted, in call order, and which of their futures were consumed. */
  readonly submissions = new Submissions();
  private backendsPromise: Promise<Backends> | null = null;
  private readonly jobs = new Map<string, JobRecord>();
  private readonly failedCalls = new Map<ResponseFuture, ReplaySource>(); // for fx.replay
  private readonly counters: Record<JobKind, number> = { A: 0, M: 0, R: 0 };
  private readonly uploads = new ContentUploads();
  /** Jobs with calls whose final status has not arrived (what monitors watch). */
  private readonly activeJobs = new Set<string>();
  /** Remote-invoke payloads staged in storage, by job, until the job is submitted. */
  private readonly staged = new Map<string, StagedPayload>();
  closed = false;

  /** Debug lines of submit, invoke and monitor events (`log_level`, `TSWREN_LOGLEVEL`). */
  readonly log: Logger;
  private readonly records: JobRecorder;

  /** @throws TswrenError `TSWREN_CONFIG_BAD_VALUE` for a bad `TSWREN_LOGLEVEL` */
  constructor(executorId: string, config: TswrenConfig) {
    showOnly(this, "ExecutorEngine", () => ({ executorId: this.executorId, backend: this.config.tswren.backend, storage: this.config.tswren.storage, jobs: this.jobs.size, closed: this.closed }));
    this.executorId = executorId;
    this.config = config;
    this.log = new Logger(executorId, effectiveLogLevel(config.tswren.log_level));
    this.records = new JobRecorder(config, this.log);
  }

  /** Reserve the next job ids of some kinds (synchronously, so ids follow call order). */
  reserveJobIds(kinds: readonly JobKind[]): string[] {
    return kinds.map((kind) => makeJobId(kind, this.counters[kind]++));
  }

  /**
   * Give back the ids of a submission that was refused before anything was invoked, when no
   * later job took ids of the same kind, so a refused submission leaves no gap in the job ids.
   */
  releaseJobIds(jobIds: readonly string[]): void {
    for (const jobId of [...jobIds].reverse()) {
      const kind = jobId[0] as JobKind;
      if (this.jobs.has(jobId) || makeJobId(kind, this.counters[kind] - 1) !== jobId) continue;
      this.counters[kind]--;
    }
  }

  /** The limits every compute backend's section declares, from the selected backend's section. */
  computeLimits(): { runtime_memory: number; runtime_timeout: number } {
    return computeSection(this.config, this.config.tswren.backend);
  }

  /** The backends, created and connected on first use. */
  backends(): Promise<Backends> {
    if (this.backendsPromise === null) {
      const t = this.config.tswren;
      this.log.debug(() => `backends: compute ${t.backend}, storage ${t.storage} bucket ${t.storage_bucket}, monitoring ${t.monitoring}`);
      const created = createBackends(this.config, this.executorId, this);
      this.backendsPromise = created;
      // A failed start (bad credentials, storage down) is reported to the caller and tried
      // again on the next use, rather than cached forever.
      created.catch(() => {
        if (this.backendsPromise === created) this.backendsPromise = null;
      });
    }
    return this.backendsPromise;
  }

  /** The backends when they started successfully, else null (for clean-up paths). */
  private async startedBackends(): Promise<Backends | null> {
    if (this.backendsPromise === null) return null;
    try {
      return await this.backendsPromise;
    } catch {
      return null;
    }
  }

  /** Upload what a job needs, create its futures and invoke its calls. */
  async submitJob(jobId: string, req: JobRequest): Promise<ResponseFuture[]> {
    const hostJobCreateMs = Date.now();
    addMapJobNonces(req.calls, (id) => this.jobNonce(id));
    const table = new StatsTable(req.calls.length);
    table.setAll("hostJobCreateMs", hostJobCreateMs);
    const submitState: JobSubmitState = { submitted: false };
    const futures = req.calls.map((_c, index) => new ResponseFuture({ executorId: this.executorId, jobId, index, single: req.single ?? false }, table, req.producesOutput, submitState));
    const b = await this.backends();
    this.assertOpen();
    const { prefix, bucket } = b.storageRef;
    const funcKey = keys.funcKey(prefix, this.executorId, req.captured.hash);
    await Promise.all([
      ...req.captured.modules.map((m) => this.uploads.upload(b, keys.moduleKey(prefix, this.executorId, m.hash), m.source)),
      this.uploads.upload(b, funcKey, req.captured.bundleBytes),
    ]);
    const dataKey = req.blob === null ? null : keys.dataKey(prefix, this.executorId, jobId);
    if (req.blob !== null && dataKey !== null) await b.storage.put(bucket, dataKey, req.blob);
    const base: JobRecord["base"] = {
      protocolVersion: PROTOCOL_VERSION,
      tswrenVersion: TSWREN_VERSION,
      executorId: this.executorId,
      jobId,
      funcKey,
      funcHash: req.captured.hash,
      moduleHashes: req.captured.modules.map((m) => m.hash),
      jobNonce: randomBytes(12).toString("hex"),
      maxAttempts: req.retries + 1,
      dataKey,
      inputKind: req.inputKind,
      timeoutMs: req.timeoutMs,
      memoryMb: req.memoryMb,
      extraEnv: req.extraEnv,
      storage: b.storageRef,
      hostJobCreateMs,
      ...(b.rabbit !== null ? { amqp: b.rabbit.target } : {}),
      ...(req.captured.usesTswren ? { callerConfig: shareableConfig(this.config) } : {}),
    };
    noteSubmitted(futures, base, b, req.retries + 1);
    this.log.debug(() => `submit ${jobId}: ${req.calls.length} calls, function ${req.captured.hash} (${req.captured.modules.length} modules), input blob ${req.blob?.length ?? 0} bytes, timeout ${req.timeoutMs} ms, memory ${req.memoryMb} MB, retries ${req.retries}`);
    const perInvocation = b.compute.callsPerInvocation ?? 1;
    this.jobs.set(jobId, { futures, table, submitState, base, calls: req.calls, maxAttempts: req.retries + 1, callsPerInvocation: Number.isFinite(perInvocation) ? perInvocation : 1, remaining: futures.length });
    if (futures.length > 0) this.activeJobs.add(jobId);
    const remote = req.remoteInvoker ?? b.compute.capabilities.remoteInvoke?.byDefault ?? false;
    try {
      if (usesRemoteInvoker(b.compute, req.calls.length, remote)) this.staged.set(base.jobId, await stagePayload(b, base, req.calls, this.executorId));
      await this.invokeJob(b, base, req, futures, remote);
    } catch (err) {
      this.dropJob(jobId, futures, err);
      throw err;
    }
    return futures;
  }

  /** Forget a job whose submission failed: its futures end (consumed) and nothing watches it. */
  private dropJob(jobId: string, futures: readonly ResponseFuture[], err: unknown): void {
    for (const f of futures) {
      f.failLocally(ErrorCodes.CALL_LOST, `its job could not be submitted: ${err instanceof Error ? err.message : String(err)}`, "error", err);
      f.read = true;
    }
    this.jobs.delete(jobId);
    this.activeJobs.delete(jobId);
    this.staged.delete(jobId);
  }

  /** Invoke a new job's calls, then record it for `tswren jobs` and `attach` (call specs of small jobs for `tswren replay`). */
  private async invokeJob(b: Backends, base: JobRecord["base"], req: JobRequest, futures: ResponseFuture[], remote: boolean): Promise<void> {
    const kept = keepCallSpecs(req.calls) ? [...req.calls] : null;
    await this.invoke(b, base, req.calls, futures, remote);
    const job = this.jobs.get(base.jobId);
    if (job === undefined) return;
    const written = this.records.submitted(b.storage, b.storageRef, { base, hostSubmitMs: futures[0]?.stat("hostSubmitMs") ?? Date.now(), futures, calls: kept, maxAttempts: job.maxAttempts, callsPerInvocation: job.callsPerInvocation, producesOutput: req.producesOutput, single: req.single ?? false });
    if (!clientBound(this.config.tswren.backend)) await written; // localhost and docker jobs die with this process anyway
  }

  private async invoke(b: Backends, base: JobRecord["base"], calls: CallSpec[], futures: ResponseFuture[], remote = false): Promise<void> {
    const hostSubmitMs = Date.now();
    const job = this.jobs.get(base.jobId);
    if (job !== undefined && calls === job.calls && !job.submitState.submitted) {
      // A whole new job (call i is future i, first attempts): one strided write, no per-future work.
      job.table.setAll("hostSubmitMs", hostSubmitMs);
      job.submitState.submitted = true;
    } else {
      for (const c of calls) futures[Number.parseInt(c.callId, 10)]?.markInvoked(hostSubmitMs, c.attempt);
    }
    const staged = remote ? this.staged.get(base.jobId) : undefined;
    this.staged.delete(base.jobId);
    this.log.debug(() => `invoke ${base.jobId}: ${calls.length} calls on ${this.config.tswren.backend}${remote ? " through the remote invoker" : ""}`);
    await invokeCalls(b.compute, { ...base, hostSubmitMs, ...(b.poller !== null ? { startMarkers: true } : {}) }, calls, { remote, ...(staged ? { staged } : {}) });
    for (const m of b.monitors) m.nudge?.();
  }

  /** Calls not ended yet, by job, with their deadlines (for the storage monitor). */
  watchedCalls(): Map<string, WatchedCall[]> {
    const out = new Map<string, WatchedCall[]>();
    for (const jobId of this.activeJobs) {
      const job = this.jobs.get(jobId);
      if (job === undefined) continue;
      const pending = job.futures.filter((f) => !f.done && f.status !== "new");
      if (pending.length === 0) continue;
      out.set(jobId, pending.map((f) => watchedCall(f, job.base.timeoutMs, job.callsPerInvocation)));
    }
    return out;
  }

  /** True when some invoked call has not ended (cheap: stops at the first one). */
  hasWatchedCalls(): boolean {
    return this.activeJobs.size > 0;
  }

  onLost(jobId: string, callId: string, attempt: number, message: string): void {
    const job = this.jobs.get(jobId);
    const future = job?.futures[Number.parseInt(callId, 10)];
    if (job === undefined || future === undefined || future.done || future.attempt !== attempt) return;
    const stats = future.stats;
    this.onStatus(failedStatus({ ...job.base, hostSubmitMs: stats.hostSubmitMs }, { callId, attempt }, { kind: "lost", name: "CallLost", message }, "unknown", { ...stats, workerEndMs: Date.now() }));
  }

  jobNonce(jobId: string): string | undefined {
    return this.jobs.get(jobId)?.base.jobNonce;
  }

  /** A call that had returned left an error behind: noted on its future (`lateErrors`, `logs()`). */
  onLateFault(jobId: string, callId: string, text: string): void {
    this.jobs.get(jobId)?.futures[Number.parseInt(callId, 10)]?.noteLateError(text);
  }

  onStart(jobId: string, callId: string, attempt: number, workerStartMs: number): void {
    const future = this.jobs.get(jobId)?.futures[Number.parseInt(callId, 10)];
    if (future === undefined || future.attempt !== attempt) return;
    this.log.debug(() => `monitor ${jobId}/${callId} attempt ${attempt}: started`);
    future.markRunning(workerStartMs);
  }

  onStatus(status: CallStatus): void {
    const hostStatusDoneMs = Date.now();
    const job = this.jobs.get(status.jobId);
    const index = Number.parseInt(status.callId, 10);
    const future = job?.futures[index];
    if (job === undefined || future === undefined || future.done || status.attempt !== future.attempt) return;
    this.log.debug(() => `monitor ${status.jobId}/${status.callId} attempt ${status.attempt}: ${status.ok ? "success" : `${status.error?.kind ?? "error"} (${status.error?.name ?? "Error"})`} on ${status.workerId}`);
    if (!status.ok && status.attempt < job.maxAttempts) {
      this.retry(job, index, status.attempt + 1, future);
      return;
    }
    const spec = job.calls[index];
    if (!status.ok && spec !== undefined) this.failedCalls.set(future, { base: job.base, call: spec });
    this.callEnded(job, status.jobId, index);
    this.resolve(future, status, hostStatusDoneMs).catch((err: unknown) => {
      future.failLocally(ErrorCodes.PROTOCOL, `its result could not be read: ${String(err)}`, "error", err);
    });
  }

  private retry(job: JobRecord, index: number, attempt: number, future: ResponseFuture): void {
    const spec = job.calls[index];
    if (spec === undefined || this.closed) return;
    const call: CallSpec = { ...spec, attempt };
    job.calls[index] = call;
    this.backends()
      .then((b) => this.invoke(b, job.base, [call], job.futures))
      .catch((err: unknown) => { future.failLocally(ErrorCodes.CALL_LOST, `its retry could not be invoked: ${String(err)}`, "error", err); });
  }

  private async resolve(future: ResponseFuture, status: CallStatus, hostStatusDoneMs: number): Promise<void> {
    if (!status.ok || status.result === undefined) {
      future.resolveWith(status, hostStatusDoneMs);
      return;
    }
    let bytes: Uint8Array;
    if (status.result.kind === "inline") {
      bytes = status.result.bytes;
    } else {
      const b = await this.backends();
      bytes = await b.storage.get(b.storageRef.bucket, status.result.key);
    }
    const value = deserializeValue(bytes);
    if (!hasFutureRefs(value)) future.resolveWith(status, hostStatusDoneMs, value);
    else await resolveReturnedFutures(future, status, value, { storage: (await this.backends()).storage, stopped: () => future.done || this.closed });
  }

  /**
   * Cancel calls of this executor that have not ended: their futures end at once as `cancelled`
   * (`TSWREN_CANCELLED`), calls not started are dropped and running ones stopped where the
   * backend can (its `cancelPending` / `cancelRunning` capabilities); `getResult()` without futures skips them
   * from now on. The executor stays usable.
   */
  cancelCalls(futures: readonly ResponseFuture[], reason: string): void {
    const open = futures.filter((f) => !f.done && f.executorId === this.executorId);
    const jobIds = new Set(open.map((f) => f.jobId));
    for (const f of open) {
      f.failLocally(ErrorCodes.CANCELLED, reason, "cancelled");
      // Its outcome was reported to whoever cancelled it: `getResult()` skips it from now on.
      f.read = true;
      const job = this.jobs.get(f.jobId);
      if (job !== undefined) this.callEnded(job, f.jobId, f.index);
    }
    if (jobIds.size === 0) return;
    void this.startedBackends().then((b) => {
      for (const jobId of jobIds) {
        b?.compute.capabilities.cancelPending?.cancel(this.executorId, jobId);
        b?.compute.capabilities.cancelRunning?.cancel(this.executorId, jobId);
      }
    });
  }

  /** A call's final outcome is known: forget its spec and stop watching a finished job. */
  private callEnded(job: JobRecord, jobId: string, index: number): void {
    job.calls[index] = undefined;
    job.remaining--;
    if (job.remaining === 0) this.activeJobs.delete(jobId);
  }

  /** What `futures` cost at the compute backend's prices (see `fx.cost`). */
  cost(futures: readonly ResponseFuture[]): CostReport {
    const backend = this.config.tswren.backend;
    const section = computeSection(this.config, backend) as unknown as CostPrices & { runtime_memory: number };
    return costOf(futures, section, backend, (f) => this.jobs.get(f.jobId)?.base.memoryMb ?? section.runtime_memory);
  }

  /** What `fx.replay` needs for a failed call of this executor, or undefined. */
  replaySource(future: ResponseFuture): ReplaySource | undefined {
    const src = this.failedCalls.get(future);
    return src?.call.input.kind === "reduce" ? { ...src, mapFutures: this.jobs.get(src.call.input.mapJobId)?.futures ?? [] } : src;
  }

  /** @throws TswrenError `TSWREN_EXECUTOR_CLOSED` once closed */
  assertOpen(): void {
    if (this.closed) {
      throw new TswrenError(ErrorCodes.EXECUTOR_CLOSED, `executor ${this.executorId} is closed; create a new one with functionExecutor()`);
    }
  }

  /** Futures of jobs already registered (in job order). */
  registeredFutures(): ResponseFuture[] {
    return [...this.jobs.values()].flatMap((j) => j.futures);
  }

  /** Delete every key this executor wrote (never other data), job records included. Returns how many. */
  async clean(): Promise<number> {
    const b = await this.startedBackends();
    this.uploads.clear();
    await this.records.flush();
    return b === null ? 0 : cleanExecutorKeys(b, this.executorId);
  }

  /** Cancel what has not run, stop monitoring, clean data when configured, release backends. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled(this.submissions.promises());
    const b = await this.startedBackends();
    if (b === null) return;
    b.compute.capabilities.cancelPending?.cancel(this.executorId);
    // Running calls are stopped too (their workers replaced); other executors' calls go on.
    b.compute.capabilities.cancelRunning?.cancel(this.executorId);
    for (const f of this.registeredFutures()) f.failLocally(ErrorCodes.CANCELLED, "the executor was closed before the call ended", "cancelled");
    await Promise.all(b.monitors.map(async (m) => m.stop()));
    await b.compute.capabilities.statusRecords?.flush(this.executorId);
    if (this.config.tswren.data_cleaner) await this.clean();
    else await this.records.flush();
    await b.compute.close();
    await b.storage.close();
  }
}
