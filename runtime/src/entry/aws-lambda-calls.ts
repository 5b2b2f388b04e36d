/**
 * Runs an invocation's calls in a worker thread that the Lambda handler watches, so that a call
 * that never ends (busy loop), runs out of memory or crashes its thread still gets a status with
 * its cause, written by the handler itself, within seconds: Lambda would otherwise kill the whole
 * sandbox at the function's timeout and nobody would report the call.
 *
 * - The thread's V8 heap is capped below the function's memory (`AWS_LAMBDA_FUNCTION_MEMORY_SIZE`
 *   less {@link HEAP_HEADROOM_MB}): an allocation past it ends the thread with
 *   `ERR_WORKER_OUT_OF_MEMORY` (kind `oom`) instead of Lambda killing the sandbox.
 * - A call running past the payload's `timeoutMs` plus {@link CALL_GRACE_MS}, or an invocation
 *   nearing Lambda's deadline ({@link deadlineMarginMs}), terminates the thread (kind `timeout`).
 * - The thread stays warm between invocations of the same sandbox, and is replaced after it failed.
 */
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { decodePayload, failedStatus } from "tswren/internal";
import type { CallSpec, InvocationPayload, InvocationPayloadJson, RemoteErrorInfo } from "tswren/internal";
import { persistStatus, runCall } from "../handler.js";
import { startMarkerHook } from "../start-marker.js";
import { storageFor } from "../storage-cache.js";

/** Memory kept outside the calls' heap (main thread, buffers, the runtime itself), MB. */
export const HEAP_HEADROOM_MB = 96;
/** How long past its `timeoutMs` a call may run before its thread is terminated, ms. */
export const CALL_GRACE_MS = 1_000;

/** Time kept before Lambda's deadline to write the unfinished calls' statuses, ms. */
export function deadlineMarginMs(remainingMs: number): number {
  return Math.min(2_000, Math.max(200, Math.floor(remainingMs / 10)));
}

/** What the calls thread tells the handler. */
type ThreadMessage = { type: "start"; callId: string } | { type: "done"; callId: string; ok: boolean } | { type: "finished" };

/** What the handler asks the calls thread. */
interface RunRequest {
  type: "run";
  json: InvocationPayloadJson;
  workerId: string;
}

/** Outcome of one call in an invocation. */
export interface CallOutcome {
  callId: string;
  ok: boolean;
}

/** Why the thread was stopped by the handler. */
type StopReason = { kind: "timeout"; limitMs: number; lambdaDeadline: boolean };

function memoryMb(): number {
  const raw = Number(process.env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]);
  return Number.isFinite(raw) && raw > 0 ? raw : 256;
}

/** The error of the call that was running when the thread ended. */
function describeEnd(stop: StopReason | undefined, err: Error | undefined, code: number): RemoteErrorInfo {
  if (stop !== undefined) {
    const what = stop.lambdaDeadline ? `the Lambda function's time limit (runtime_timeout, ${Math.round(stop.limitMs / 1000)} s)` : `its timeout of ${stop.limitMs / 1000} s`;
    return { kind: "timeout", name: "TimeoutError", message: `the call ran longer than ${what} and was stopped; raise \`timeout\` / aws_lambda.runtime_timeout or split the work` };
  }
  const code2 = (err as { code?: unknown } | undefined)?.code;
  if (code2 === "ERR_WORKER_OUT_OF_MEMORY" || /heap out of memory|Reached heap limit/i.test(err?.message ?? "")) {
    return { kind: "oom", name: "OutOfMemoryError", message: `the call ran out of memory (the function has runtime_memory ${memoryMb()} MB); raise \`runtimeMemory\` or process less data per call` };
  }
  const why = err !== undefined ? `failed: ${err.message}` : `exited with code ${code}`;
  return { kind: "crash", name: "WorkerDied", message: `the thread running the call ${why}` };
}

/** A warm calls thread. */
class CallsThread {
  readonly worker: Worker;
  dead = false;
  private listener: ((m: ThreadMessage) => void) | undefined;
  private ended: ((e: { err?: Error; code: number }) => void) | undefined;
  private lastError: Error | undefined;

  constructor() {
    const maxOldGenerationSizeMb = Math.max(32, memoryMb() - HEAP_HEADROOM_MB);
    this.worker = new Worker(new URL(import.meta.url), { workerData: { tswrenLambdaCalls: true }, resourceLimits: { maxOldGenerationSizeMb } });
    this.worker.on("message", (m: ThreadMessage) => this.listener?.(m));
    this.worker.on("error", (err) => {
      this.lastError = err;
    });
    this.worker.on("exit", (code) => {
      this.dead = true;
      this.ended?.(this.lastError !== undefined ? { err: this.lastError, code } : { code });
    });
  }

  /** Run a payload; resolves when the thread finished it or ended. */
  run(request: RunRequest, onMessage: (m: ThreadMessage) => void): Promise<{ finished: true } | { finished: false; err?: Error; code: number }> {
    return new Promise((resolve) => {
      this.listener = (m) => {
        onMessage(m);
        if (m.type === "finished") resolve({ finished: true });
      };
      this.ended = (e) => { resolve({ finished: false, ...e }); };
      this.worker.postMessage(request);
    });
  }
}

let warm: CallsThread | undefined;

/** Arm the stop timers of a call that started; returns the clear function. */
function armTimers(thread: CallsThread, payload: InvocationPayload, remainingMs: () => number, stop: (r: StopReason) => void): { callStarted(): void; clear(): void } {
  let callTimer: NodeJS.Timeout | undefined;
  const left = remainingMs();
  const lambdaTimer = setTimeout(() => {
    stop({ kind: "timeout", limitMs: Number(process.env["AWS_LAMBDA_FUNCTION_TIMEOUT"] ?? 0) * 1000 || left, lambdaDeadline: true });
    void thread.worker.terminate();
  }, Math.max(0, left - deadlineMarginMs(left)));
  return {
    callStarted() {
      clearTimeout(callTimer);
      callTimer = setTimeout(() => {
        stop({ kind: "timeout", limitMs: payload.timeoutMs, lambdaDeadline: false });
        void thread.worker.terminate();
      }, payload.timeoutMs + CALL_GRACE_MS);
    },
    clear() {
      clearTimeout(callTimer);
      clearTimeout(lambdaTimer);
    },
  };
}

/** Write failed statuses for the calls that did not finish: the running one gets the cause. */
async function reportUnfinished(payload: InvocationPayload, unfinished: CallSpec[], runningId: string | undefined, cause: RemoteErrorInfo, workerId: string): Promise<CallOutcome[]> {
  const storage = await storageFor(payload.storage);
  return Promise.all(
    unfinished.map(async (call) => {
      const error: RemoteErrorInfo =
        call.callId === runningId || runningId === undefined
          ? cause
          : { kind: "lost", name: "CallNotRun", message: `the call was not run: call ${runningId} of the same invocation ended its thread (${cause.kind})` };
      await persistStatus(storage, payload, failedStatus(payload, call, error, workerId));
      return { callId: call.callId, ok: false };
    }),
  );
}

/**
 * Run the payload's calls in the watched thread.
 * @param json - the payload as received
 * @param payload - the same, decoded
 * @param workerId - identifies this invocation in statuses
 * @param remainingMs - time left before Lambda's deadline
 * @returns each call's outcome, in call order
 */
export async function runWatched(json: InvocationPayloadJson, payload: InvocationPayload, workerId: string, remainingMs: () => number): Promise<CallOutcome[]> {
  const thread = warm !== undefined && !warm.dead ? warm : new CallsThread();
  warm = thread;
  const outcomes = new Map<string, boolean>();
  let running: string | undefined;
  let stopped: StopReason | undefined;
  const timers = armTimers(thread, payload, remainingMs, (r) => (stopped ??= r));
  const end = await thread.run({ type: "run", json, workerId }, (m) => {
    if (m.type === "start") {
      running = m.callId;
      timers.callStarted();
    } else if (m.type === "done") outcomes.set(m.callId, m.ok);
  });
  timers.clear();
  if (end.finished) return payload.calls.map((c) => ({ callId: c.callId, ok: outcomes.get(c.callId) ?? false }));
  warm = undefined;
  const cause = describeEnd(stopped, end.err, end.code);
  const unfinished = payload.calls.filter((c) => !outcomes.has(c.callId));
  const failed = await reportUnfinished(payload, unfinished, running, cause, workerId);
  const failedIds = new Map(failed.map((f) => [f.callId, f.ok]));
  return payload.calls.map((c) => ({ callId: c.callId, ok: outcomes.get(c.callId) ?? failedIds.get(c.callId) ?? false }));
}

/** The thread side: run each requested payload's calls, reporting each start and end. */
function serveThread(): void {
  const port = parentPort;
  if (port === null) return;
  port.on("message", (request: RunRequest) => {
    void (async () => {
      const payload = decodePayload(request.json);
      const beforeCall = startMarkerHook(payload, request.workerId);
      for (const call of payload.calls) {
        port.postMessage({ type: "start", callId: call.callId } satisfies ThreadMessage);
        const status = await runCall(payload, call, { workerId: request.workerId, passThroughLogs: true, ...(beforeCall !== undefined ? { beforeCall } : {}) }).catch(
          async (err: unknown) => {
            const message = `the call could not be started: ${err instanceof Error ? err.message : String(err)}`;
            const storage = await storageFor(payload.storage);
            return persistStatus(storage, payload, failedStatus(payload, call, { kind: "storage", name: "StorageError", message }, request.workerId));
          },
        );
        port.postMessage({ type: "done", callId: call.callId, ok: status.ok } satisfies ThreadMessage);
      }
      port.postMessage({ type: "finished" } satisfies ThreadMessage);
    })();
  });
}

if (!isMainThread && (workerData as { tswrenLambdaCalls?: boolean } | null)?.tswrenLambdaCalls === true) serveThread();
