/**
 * The one call handler every backend runs: fetch the function and the call's input, run the
 * function with `(item, ctx)`, capture its logs, and write the call's status (and output when
 * large) to storage. Backends differ only in how payloads arrive and how events leave.
 */
import {
  ErrorCodes,
  TswrenError,
  INLINE_LIMIT_BYTES,
  PROTOCOL_VERSION,
  Storage,
  TSWREN_VERSION,
  deserializeValue,
  encodeFutureRefs,
  keys,
  writeStatusUnlessSuperseded,
  publishStart,
  provideRuntimeModule,
  publishStatus,
  runWithCallConfig,
  serializeValue,
  setDurations,
} from "tswren/internal";
import type {
  CallContext,
  CallSpec,
  CallStats,
  CallStatus,
  InvocationPayload,
  RemoteErrorInfo,
  ResultRef,
  StorageBackend,
} from "tswren/internal";
import { openPart } from "tswren/internal";
import * as tswrenApi from "tswren";
import type { PartSpec } from "tswren/internal";
import { loadFunction } from "./function-cache.js";
import { previewInput } from "./input-preview.js";
import { captureLogs } from "./log-capture.js";
import { readReduceInput } from "./reduce-input.js";
import { storageFor } from "./storage-cache.js";
import { ProcessExitRequested, withExitGuard } from "./exit-guard.js";
import { newCallScope, runInScope } from "./fault-guard.js";
import { StorageStalled, storageStep } from "./storage-deadline.js";

// `import ... from "tswren"` in a function gives the whole public API on every runtime: a function
// may create an executor itself (from the invoking executor's config, see job/call-config.ts).
provideRuntimeModule("tswren", tswrenApi);

/** What the handler tells its entry point while calls run. */
export interface HandlerHooks {
  /** A call was picked up (before its function is loaded). */
  onStart?(call: CallSpec, workerStartMs: number): void;
  /**
   * Awaited before the call's function is loaded, with the call's storage (entry points use it to
   * write the call's `start` key). A throw fails the call: the error goes into its status.
   */
  beforeCall?(call: CallSpec, storage: StorageBackend, workerStartMs: number): Promise<void>;
  /** Also write captured logs to the real stdout/stderr (platform log collection). */
  passThroughLogs?: boolean;
  /** Identifies this worker / activation in statuses. */
  workerId: string;
}

function errorInfo(err: unknown): RemoteErrorInfo {
  if (err instanceof TswrenError && err.code === ErrorCodes.BUNDLE_MISMATCH) {
    return { kind: "bundle", name: "BundleMismatch", message: err.message };
  }
  if (err instanceof ProcessExitRequested) {
    return { kind: "exit", name: "ProcessExit", message: err.message, stack: err.stack ?? "" };
  }
  if (err instanceof StorageStalled) {
    return { kind: "storage", name: err.name, message: err.message };
  }
  if (err instanceof Error) {
    return { kind: "exception", name: err.name, message: err.message, stack: err.stack ?? "" };
  }
  return { kind: "exception", name: "NonErrorThrown", message: `the function threw a non-Error value: ${String(err)}` };
}

/** The error with a preview of the call's input, when the input was read. */
function withInputPreview(error: RemoteErrorInfo, input: { item?: unknown }, isPart: boolean): RemoteErrorInfo {
  if (!("item" in input)) return error;
  try {
    return { ...error, input: previewInput(input.item, isPart) };
  } catch {
    return error; // an input whose inspection throws (a hostile getter) is shown without preview
  }
}

async function readInput(storage: StorageBackend, payload: InvocationPayload, call: CallSpec, signal: AbortSignal): Promise<unknown> {
  const input = call.input;
  switch (input.kind) {
    case "inline":
      return asItem(payload, storage, deserializeValue(input.bytes));
    case "range": {
      if (payload.dataKey === null) throw new TswrenError(ErrorCodes.PROTOCOL, `job ${payload.executorId}/${payload.jobId} call ${call.callId} has a ranged input but no data key; the client and runtime run different tswren versions`);
      const bytes = await storage.get(payload.storage.bucket, payload.dataKey, { start: input.start, end: input.end - 1 });
      return asItem(payload, storage, deserializeValue(bytes));
    }
    case "reduce":
      return readReduceInput(storage, payload.storage, payload.executorId, input, signal);
  }
}

/** The item the function receives: the value itself, or a CloudObject for a part of `objects(...)`. */
function asItem(payload: InvocationPayload, storage: StorageBackend, value: unknown): unknown {
  return payload.inputKind === "part" ? openPart(value as PartSpec, storage) : value;
}

async function storeResult(storage: StorageBackend, payload: InvocationPayload, call: CallSpec, value: unknown): Promise<ResultRef> {
  // Futures the function returned travel as references the client resolves.
  const bytes = serializeValue(encodeFutureRefs(value), "the function's result");
  if (bytes.length <= INLINE_LIMIT_BYTES) return { kind: "inline", bytes };
  const key = keys.outputKey(payload.storage.prefix, payload.executorId, payload.jobId, call.callId, call.attempt);
  await storage.put(payload.storage.bucket, key, bytes);
  return { kind: "output", key, size: bytes.length };
}

function applyEnv(extraEnv: Record<string, string>): () => void {
  const saved = Object.keys(extraEnv).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, extraEnv);
  return () => {
    for (const [k, v] of saved) {
      if (v === undefined) Reflect.deleteProperty(process.env, k);
      else process.env[k] = v;
    }
  };
}

function callContext(payload: InvocationPayload, call: CallSpec, storage: StorageBackend, signal: AbortSignal): CallContext {
  return {
    id: Number.parseInt(call.callId, 10),
    callId: call.callId,
    jobId: payload.jobId,
    executorId: payload.executorId,
    attempt: call.attempt,
    storage: new Storage(storage, payload.storage.bucket, { prefix: payload.storage.prefix, executorId: payload.executorId }),
    signal,
  };
}

/** Run one call of an invocation and write its status; never throws for user-code failures. */
export async function runCall(payload: InvocationPayload, call: CallSpec, hooks: HandlerHooks): Promise<CallStatus> {
  const { status, storage } = await executeCall(payload, call, hooks);
  return persistStatus(storage, payload, status);
}

/**
 * Run one call without storing its status yet (callers that overlap the status write with the
 * next call use this with {@link persistStatus}).
 * @returns the call's status (with `workerEndMs` set) and the storage to write it to
 */
export async function executeCall(payload: InvocationPayload, call: CallSpec, hooks: HandlerHooks): Promise<{ status: CallStatus; storage: StorageBackend }> {
  const stats: CallStats = { hostJobCreateMs: payload.hostJobCreateMs, hostSubmitMs: payload.hostSubmitMs, workerStartMs: Date.now() };
  hooks.onStart?.(call, stats.workerStartMs as number);
  void publishStart(payload, call, stats.workerStartMs as number); // never rejects; ordered before the end
  const storage = await storageFor(payload.storage);
  const abort = new AbortController();
  const timer = setTimeout(() => { abort.abort(new TswrenError(ErrorCodes.TIMEOUT, "call timed out")); }, payload.timeoutMs);
  timer.unref();
  const restoreEnv = applyEnv(payload.extraEnv);
  const logs = captureLogs(hooks.passThroughLogs ?? false);
  let outcome: { ok: true; result: ResultRef } | { ok: false; error: RemoteErrorInfo };
  const input: { item?: unknown } = {};
  // Everything the call starts (timers, promises) runs in its scope: their faults stay its own.
  const scope = newCallScope({ executorId: payload.executorId, jobId: payload.jobId, callId: call.callId });
  try {
    const { signal } = abort;
    if (hooks.beforeCall) await storageStep(hooks.beforeCall(call, storage, stats.workerStartMs as number), "writing the call's start marker", payload, signal);
    const value = await logs.run(() => runInScope(scope, async () => {
      const fn = await storageStep(loadFunction(storage, payload), "reading the function", payload, signal);
      // A reducer waits for its map results within its timeout itself (that wait is not storage trouble).
      const reading = readInput(storage, payload, call, signal);
      const item = call.input.kind === "reduce" ? await reading : await storageStep(reading, "reading the call's input", payload, signal);
      input.item = item;
      const ctx = callContext(payload, call, storage, abort.signal);
      stats.workerFuncStartMs = Date.now();
      const callerConfig = payload.callerConfig;
      const run = (): Promise<unknown> => withExitGuard(() => fn(item, ctx));
      try {
        return await (callerConfig === undefined ? run() : runWithCallConfig(callerConfig, payload.storage, run, { executorId: payload.executorId, jobId: payload.jobId, callId: call.callId }));
      } finally {
        stats.workerFuncEndMs = Date.now();
      }
    }));
    scope.ended = true;
    outcome = { ok: true, result: await storageStep(storeResult(storage, payload, call, value), "writing the call's output", payload, signal) };
  } catch (err) {
    outcome = { ok: false, error: withInputPreview(errorInfo(err), input, payload.inputKind === "part") };
    stats.workerFuncStartMs ??= Date.now();
    stats.workerFuncEndMs ??= stats.workerFuncStartMs;
  } finally {
    scope.ended = true;
    clearTimeout(timer);
    restoreEnv();
  }
  const status = callStatus(payload, call, outcome, stats, { logs: logs.stop(), workerId: hooks.workerId });
  stats.workerEndMs = Date.now();
  setDurations(stats);
  return { status, storage };
}

/** The status of a call that ended with `outcome`. */
function callStatus(
  payload: InvocationPayload,
  call: CallSpec,
  outcome: { ok: true; result: ResultRef } | { ok: false; error: RemoteErrorInfo },
  stats: CallStats,
  worker: { logs: CallStatus["logs"]; workerId: string },
): CallStatus {
  return {
    protocolVersion: PROTOCOL_VERSION,
    executorId: payload.executorId,
    jobId: payload.jobId,
    callId: call.callId,
    attempt: call.attempt,
    ...outcome,
    stats,
    logs: worker.logs,
    workerId: worker.workerId,
    runtime: { tswrenVersion: TSWREN_VERSION, nodeVersion: process.version },
    ...(payload.jobNonce !== undefined ? { jobNonce: payload.jobNonce } : {}),
  };
}

/**
 * Write a call's status to storage, then (in RabbitMQ monitoring) publish it and wait for the
 * broker's confirm; a broker failure only leaves the client to read the status from storage.
 * @returns the status, or when it could not be stored, an error status saying so (for channels
 *   that do not go through storage) rather than losing the call or killing the worker
 */
export async function persistStatus(storage: StorageBackend, payload: InvocationPayload, status: CallStatus): Promise<CallStatus> {
  const { stored, written } = await writeStatus(storage, payload, status);
  // A late attempt whose retry already reported stays quiet: the client waits for the retry.
  if (written) await publishStatus(payload, stored);
  return stored;
}

async function writeStatus(storage: StorageBackend, payload: InvocationPayload, status: CallStatus): Promise<{ stored: CallStatus; written: boolean }> {
  const key = keys.statusKey(payload.storage.prefix, payload.executorId, payload.jobId, status.callId);
  try {
    return { stored: status, written: await writeStatusUnlessSuperseded(storage, payload.storage.bucket, key, status, payload.maxAttempts) };
  } catch (err) {
    const message = `the call's status could not be written to storage: ${err instanceof Error ? err.message : String(err)}`;
    return { stored: { ...status, ok: false, result: undefined, error: { kind: "storage", name: "StorageError", message } }, written: true };
  }
}
