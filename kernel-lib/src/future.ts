/**
 * `ResponseFuture`: the client-side handle of one call. It is resolved by the executor's monitor
 * when the call's final status arrives, and keeps the call's stats, result, error and logs.
 */
import { inspect } from "node:util";
import { ErrorCodes, RemoteFunctionError, TswrenError, type ErrorCode } from "./errors.js";
import { callId as formatCallId } from "./ids.js";
import type { StatsField, StatsTable } from "./job/stats-table.js";
import type { CallStats, CallStatus, RemoteErrorInfo } from "./protocol.js";

/** Life cycle of a call as the client sees it. */
export type FutureState = "new" | "invoked" | "running" | "success" | "error" | "cancelled";

const ERROR_CODES: Record<RemoteErrorInfo["kind"], ErrorCode> = {
  exception: ErrorCodes.REMOTE_FUNCTION,
  crash: ErrorCodes.WORKER_CRASHED,
  exit: ErrorCodes.WORKER_EXITED,
  oom: ErrorCodes.OUT_OF_MEMORY,
  timeout: ErrorCodes.TIMEOUT,
  lost: ErrorCodes.CALL_LOST,
  protocol: ErrorCodes.PROTOCOL,
  storage: ErrorCodes.STORAGE,
  bundle: ErrorCodes.BUNDLE_MISMATCH,
};

/**
 * Shared by the futures of one job: set once when the whole job was handed to the platform, so
 * submitting 10,000 calls does not touch 10,000 objects.
 */
export interface JobSubmitState {
  submitted: boolean;
}

/** Handle of one call. @typeParam R - the function's result type */
export class ResponseFuture<R = unknown> {
  readonly executorId: string;
  readonly jobId: string;
  /** Index of the call in its job (the function's `ctx.id`). */
  readonly index: number;
  /** Current attempt (1-based); a retry increases it. */
  attempt = 1;
  /** False for map calls of a mapReduce: `getResult()` returns only the reducer's value. */
  readonly producesOutput: boolean;
  /**
   * True once the future was consumed: `getResult` returned its value or threw its error (or the
   * error of another call it waited on together), or it was cancelled. The no-argument forms of
   * `getResult` and `wait` skip consumed futures.
   */
  read = false;
  /** True when the call's job gives one value (`callAsync`, `mapReduce` with one reducer). */
  readonly single: boolean;
  private readonly table: StatsTable;
  private readonly jobState: JobSubmitState;
  private stateValue: FutureState = "new";
  private value: R | undefined = undefined;
  private errorValue: Error | undefined = undefined;
  private logText = "";
  private lateErrorTexts: string[] = [];
  private workerIdValue: string | undefined = undefined;
  private waiters: Array<() => void> | null = null;

  /** @internal created by the executor; the job's stats live in `table` at row `index` */
  constructor(ids: { executorId: string; jobId: string; index: number; single?: boolean }, table: StatsTable, producesOutput = true, jobState: JobSubmitState = { submitted: false }) {
    this.jobState = jobState;
    this.single = ids.single ?? false;
    this.executorId = ids.executorId;
    this.jobId = ids.jobId;
    this.index = ids.index;
    this.table = table;
    this.producesOutput = producesOutput;
  }

  /** Call id as used in storage keys, e.g. `00007`. */
  get callId(): string {
    return formatCallId(this.index);
  }

  /** Timestamps of the call (Lithops' host_* / worker_* stats), in ms since the epoch, as taken so far. */
  get stats(): CallStats {
    return this.table.row(this.index);
  }

  /** One timestamp of the call, without building the whole stats object (hot paths). */
  stat(field: StatsField): number | undefined {
    return this.table.get(this.index, field);
  }

  /** Where the call is in its life cycle. */
  get status(): FutureState {
    return this.stateValue === "new" && this.jobState.submitted ? "invoked" : this.stateValue;
  }

  /** True when the call ended (success, error or cancelled). */
  get done(): boolean {
    return this.stateValue === "success" || this.stateValue === "error" || this.stateValue === "cancelled";
  }

  /** True when the call ended successfully. */
  get success(): boolean {
    return this.stateValue === "success";
  }

  /** The call's error once it failed, else undefined. */
  get error(): Error | undefined {
    return this.errorValue;
  }

  /** The worker (process or activation) that ran the final attempt. */
  get workerId(): string | undefined {
    return this.workerIdValue;
  }

  /**
   * What the call wrote to stdout and stderr (final attempt); empty until it ended. Errors it left
   * behind after it returned ({@link lateErrors}) are appended as they arrive.
   */
  logs(): string {
    return this.lateErrorTexts.length === 0 ? this.logText : [this.logText, ...this.lateErrorTexts].join("\n");
  }

  /**
   * Errors raised after the call had returned by something it left behind (a timer or promise
   * that threw or rejected, a late `process.exit`), each naming the call, with its stack. They
   * never change the call's outcome nor fail another call; its worker is replaced. Reported by
   * backends whose workers talk to the client directly (localhost); elsewhere they are in the
   * worker's own log.
   */
  get lateErrors(): readonly string[] {
    return this.lateErrorTexts;
  }

  /** @internal a late error of this call arrived */
  noteLateError(text: string): void {
    this.lateErrorTexts.push(text.endsWith("\n") ? text.slice(0, -1) : text);
  }

  /**
   * Wait for the call and return its result.
   * @throws RemoteFunctionError when the call failed
   */
  async result(): Promise<R> {
    await this.settled();
    if (this.errorValue) throw this.errorValue;
    return this.value as R;
  }

  /** Resolves once the call ended, whatever the outcome. */
  settled(): Promise<void> {
    if (this.done) return Promise.resolve();
    return new Promise((resolve) => { this.onSettled(resolve); });
  }

  /** @internal register a callback run once the call ended */
  onSettled(callback: () => void): void {
    if (this.done) callback();
    else (this.waiters ??= []).push(callback);
  }

  /** @internal remove a callback registered with {@link onSettled} (a wait that returned early) */
  offSettled(callback: () => void): void {
    const waiters = this.waiters;
    if (waiters === null) return;
    const i = waiters.lastIndexOf(callback);
    if (i >= 0) waiters.splice(i, 1);
    if (waiters.length === 0) this.waiters = null;
  }

  /** @internal number of callbacks waiting for this call to end (tests check waits leave none) */
  listenerCount(): number {
    return this.waiters?.length ?? 0;
  }

  /** @internal */
  markInvoked(hostSubmitMs: number, attempt: number): void {
    this.table.set(this.index, "hostSubmitMs", hostSubmitMs);
    this.attempt = attempt;
    this.stateValue = "invoked";
  }

  /** @internal */
  markRunning(workerStartMs: number): void {
    if (this.done) return;
    this.table.set(this.index, "workerStartMs", workerStartMs);
    this.stateValue = "running";
  }

  /** @internal the final status arrived and its result (if any) was decoded */
  resolveWith(status: CallStatus, hostStatusDoneMs: number, value?: R): void {
    this.table.setWorkerStats(this.index, status.stats);
    this.table.set(this.index, "hostStatusDoneMs", hostStatusDoneMs);
    this.logText = status.logs;
    this.workerIdValue = status.workerId;
    if (status.ok) {
      this.value = value;
      this.table.set(this.index, "hostResultDoneMs", Date.now());
      this.finish("success");
    } else {
      const info = status.error ?? { kind: "protocol", name: "Error", message: "status without error details" };
      this.errorValue = new RemoteFunctionError(ERROR_CODES[info.kind], {
        remoteName: info.name,
        message: info.message,
        ...(info.stack !== undefined ? { remoteStack: info.stack } : {}),
        ...(info.input !== undefined ? { inputPreview: info.input } : {}),
        call: { executorId: this.executorId, jobId: this.jobId, callId: this.callId },
        attempt: status.attempt,
      });
      this.table.set(this.index, "hostResultDoneMs", hostStatusDoneMs);
      this.finish("error");
    }
  }

  /** @internal the call failed on the client side (cancelled, undecodable result, ...) */
  failLocally(code: ErrorCode, message: string, state: "error" | "cancelled" = "error", cause?: unknown): void {
    if (this.done) return;
    this.errorValue = new TswrenError(code, `call ${this.executorId}/${this.jobId}/${this.callId}: ${message}`, { cause });
    this.finish(state);
  }

  /** How `util.inspect` (tslab, `console.log`) shows a future: its ids and state, and its error's block. */
  [inspect.custom](): string {
    const head = `ResponseFuture ${this.executorId}/${this.jobId}/${this.callId} (${this.status})`;
    if (this.errorValue === undefined) return head;
    return `${head}\n${inspect(this.errorValue).split("\n").map((l) => `  ${l}`).join("\n")}`;
  }

  private finish(state: FutureState): void {
    this.stateValue = state;
    const waiters = this.waiters;
    this.waiters = null;
    for (const w of waiters ?? []) w();
  }
}
