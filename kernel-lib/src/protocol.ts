/**
 * Everything that crosses a process boundary, declared once: the invocation payload the client
 * sends, the status a worker writes, and the messages of the direct local channel. Client,
 * runtime and (by type) the notebook extension import these shapes from here.
 */

import { ErrorCodes, TswrenError } from "./errors.js";
import { TSWREN_VERSION } from "./version.js";

/** Version of the job protocol; a runtime refuses payloads of another version. */
export const PROTOCOL_VERSION = 1;

/** Results and inputs up to this size travel inline (in the payload or in `status.json`). */
export const INLINE_LIMIT_BYTES = 8 * 1024;

/** Largest amount of captured stdout/stderr kept per call. */
export const LOG_LIMIT_BYTES = 1024 * 1024;

/** Timestamps of one call, in milliseconds since the epoch, named after the clock's side. */
export interface CallStats {
  /** Client: the job (and its futures) was created. */
  hostJobCreateMs: number;
  /** Client: the invocation holding this call was handed to the compute backend. */
  hostSubmitMs: number;
  /** Worker: the call was received by a worker. */
  workerStartMs?: number;
  /** Worker: the user function was entered. */
  workerFuncStartMs?: number;
  /** Worker: the user function returned or threw. */
  workerFuncEndMs?: number;
  /** Worker: status and output were written. */
  workerEndMs?: number;
  /** Client: the final status was seen. */
  hostStatusDoneMs?: number;
  /** Client: the result was read and deserialized. */
  hostResultDoneMs?: number;
  /** Worker: its own execution time for the call, `workerEndMs - workerStartMs` (Lithops' `worker_exec_time`), ms. */
  workerExecMs?: number;
  /** Worker: the function's execution time, `workerFuncEndMs - workerFuncStartMs` (Lithops' `worker_func_exec_time`), ms. */
  workerFuncExecMs?: number;
}

/**
 * Set a call's durations from its worker timestamps (the worker does this before writing its
 * status; the client derives them for statuses it made itself).
 */
export function setDurations(stats: CallStats): void {
  if (stats.workerEndMs !== undefined && stats.workerStartMs !== undefined) stats.workerExecMs = stats.workerEndMs - stats.workerStartMs;
  if (stats.workerFuncEndMs !== undefined && stats.workerFuncStartMs !== undefined) stats.workerFuncExecMs = stats.workerFuncEndMs - stats.workerFuncStartMs;
}

/** Where one call's input lives. */
export type CallInput =
  | { kind: "inline"; bytes: Uint8Array }
  | { kind: "range"; start: number; end: number };

/** A reduce call's input: the map calls whose results it combines, in order. */
export interface ReduceInput {
  kind: "reduce";
  /** Job whose calls are reduced. */
  mapJobId: string;
  /** Call ids of the map job, in result order. */
  mapCallIds: string[];
  /** Attempts a map call may take before its error is final (retries + 1). */
  maxAttempts: number;
  /** True when the reducer should wait for map statuses itself (remote wait). */
  waitRemote: boolean;
  /** The map job's nonce: statuses without it (stale or forged) are not waited for. */
  mapJobNonce?: string;
}

/** One call inside an invocation. */
export interface CallSpec {
  callId: string;
  /** 1-based attempt number; a retry sends the same call with attempt + 1. */
  attempt: number;
  input: CallInput | ReduceInput;
}

/** How a worker reaches the job's storage. */
export interface StorageRef {
  /** Storage backend name, e.g. `localhost` or `s3`. */
  backend: string;
  /** The backend's own config section (may hold credentials: never logged). */
  config: Record<string, unknown>;
  bucket: string;
  prefix: string;
}

/** What the client sends to a compute backend for one invocation (one or more calls). */
export interface InvocationPayload {
  protocolVersion: typeof PROTOCOL_VERSION;
  tswrenVersion: string;
  executorId: string;
  jobId: string;
  /** Storage key of the function bundle. */
  funcKey: string;
  /**
   * Content hash of the function bundle (first 32 hex characters of its SHA-256); the worker
   * checks the bytes it loaded against it before evaluating them (`TSWREN_BUNDLE_MISMATCH`).
   */
  funcHash: string;
  /** Content hashes of the bundled npm modules the function needs, checked the same way. */
  moduleHashes: string[];
  /**
   * Random per-job nonce (hex) that every status of the job carries; monitors ignore statuses
   * without it, so stale data under the same keys is never taken for a new result.
   */
  jobNonce?: string;
  /**
   * Attempts each call may take (retries + 1). A worker whose attempt is not the last checks
   * that no later attempt stored its status before writing its own (`storage/status-write.ts`).
   */
  maxAttempts?: number;
  /** Storage key of the job's input blob, when some inputs are not inline. */
  dataKey: string | null;
  /** `value`: inputs are the items; `part`: inputs are part specs of `objects(...)`, opened as CloudObjects. */
  inputKind: "value" | "part";
  calls: CallSpec[];
  /** Per-call time limit. */
  timeoutMs: number;
  /** Memory limit of the worker that runs the calls. */
  memoryMb: number;
  /** Extra environment variables visible to the function. */
  extraEnv: Record<string, string>;
  storage: StorageRef;
  hostJobCreateMs: number;
  hostSubmitMs: number;
  /**
   * Write a `start` key when a call is picked up (backends without a direct channel: the
   * storage monitor uses it to time calls out from their real start).
   */
  startMarkers?: boolean;
  /**
   * RabbitMQ monitoring: publish a start and an end message per call to this queue (the status
   * is still written to storage). The URL holds credentials: never logged, never in a status.
   */
  amqp?: AmqpTarget;
  /**
   * The invoking executor's configuration without its secret keys, sent when the function uses
   * tswren itself: executors created inside the function default to it (see `job/call-config.ts`).
   */
  callerConfig?: Record<string, unknown>;
}

/** Where workers publish call events in RabbitMQ monitoring mode. */
export interface AmqpTarget {
  /** Broker URL `amqp(s)://user:password@host:port/vhost` (a secret). */
  url: string;
  /** The executor's queue (the client declared it before invoking). */
  queue: string;
}

/** A message a worker publishes to the executor's RabbitMQ queue. */
export type MonitorMessage =
  | { type: "start"; executorId: string; jobId: string; callId: string; attempt: number; workerStartMs: number; jobNonce?: string }
  | { type: "status"; status: CallStatus };

/** Encode a monitor message as JSON bytes (a status in its `status.json` form). */
export function encodeMonitorMessage(message: MonitorMessage): Buffer {
  const text = message.type === "status" ? `{"type":"status","status":${encodeStatus(message.status)}}` : JSON.stringify(message);
  return Buffer.from(text, "utf8");
}

/**
 * Decode a monitor message. Only data is read from it: nothing in it is ever evaluated.
 * @throws TswrenError `TSWREN_PROTOCOL` (or SyntaxError) when the bytes are not a monitor message of this protocol
 */
export function decodeMonitorMessage(bytes: Uint8Array): MonitorMessage {
  const json = JSON.parse(Buffer.from(bytes).toString("utf8")) as { type?: unknown; status?: unknown };
  if (json.type === "status") return { type: "status", status: statusFromJson(json.status) };
  const start = json as Partial<Extract<MonitorMessage, { type: "start" }>>;
  if (start.type !== "start" || typeof start.executorId !== "string" || typeof start.jobId !== "string" || typeof start.callId !== "string" || typeof start.attempt !== "number" || typeof start.workerStartMs !== "number") {
    throw new TswrenError(ErrorCodes.PROTOCOL, "not a tswren monitor message; the worker and the client run different tswren versions, or something else publishes to the executor's queue");
  }
  return { type: "start", executorId: start.executorId, jobId: start.jobId, callId: start.callId, attempt: start.attempt, workerStartMs: start.workerStartMs, ...(typeof start.jobNonce === "string" ? { jobNonce: start.jobNonce } : {}) };
}

/**
 * The remote invoker: one activation that holds a whole job and invokes its calls from inside
 * the platform, so the client's submit time does not grow with the number of calls.
 */
export interface RemoteInvokeRequest {
  protocolVersion: typeof PROTOCOL_VERSION;
  kind: "remote-invoke";
  /** The job's calls, JSON-encoded, inline (small jobs)... */
  payload?: InvocationPayloadJson;
  /**
   * ...or stored as JSON at `key` (large jobs: the request stays small whatever the job size).
   * The staged JSON holds no credentials (`storage.config` empty, `amqp.url` empty): they travel
   * in this (signed) request as `credentials`; `sha256` of the staged text is checked before use.
   */
  payloadRef?: { storage: StorageRef; key: string; sha256?: string };
  /** Credentials removed from a staged payload, put back by the remote invoker after the hash check. */
  credentials?: { storageConfig: Record<string, unknown>; amqpUrl?: string };
  /** When the client submitted the job (a staged payload was written before that). */
  hostSubmitMs?: number;
  /** Calls per activation the fan-out sends. */
  callsPerActivation: number;
  /** Activations the fan-out keeps in flight at once. */
  concurrency: number;
  /** How the fan-out reaches the platform (credentials: never logged). */
  platform: { apihost: string; namespace: string; action: string; apiKey?: string; bearerToken?: string; insecure: boolean };
}

/** Error of a failed call, as written by the worker. */
export interface RemoteErrorInfo {
  /** The kind: a throw in user code, or how the worker failed. */
  kind: "exception" | "crash" | "exit" | "oom" | "timeout" | "lost" | "protocol" | "storage" | "bundle";
  name: string;
  message: string;
  stack?: string;
  /** A short preview of the call's input (`util.inspect`, at most ~120 characters), for error displays. */
  input?: string;
}

/** Where a successful call's result lives. */
export type ResultRef = { kind: "inline"; bytes: Uint8Array } | { kind: "output"; key: string; size: number };

/** What a worker writes to `status.json` when a call ends (and sends on the direct channel). */
export interface CallStatus {
  protocolVersion: typeof PROTOCOL_VERSION;
  executorId: string;
  jobId: string;
  callId: string;
  attempt: number;
  ok: boolean;
  result?: ResultRef;
  error?: RemoteErrorInfo;
  stats: CallStats;
  /** Captured stdout and stderr of the call, interleaved, at most {@link LOG_LIMIT_BYTES}. */
  logs: string;
  /** Identifies the worker process / activation that ran the call. */
  workerId: string;
  runtime: { tswrenVersion: string; nodeVersion: string };
  /** The job's nonce from the payload (see {@link InvocationPayload.jobNonce}). */
  jobNonce?: string;
}

/**
 * The status of a call that failed outside its function: its worker died, its activation was
 * lost or could not be invoked, its storage could not be reached.
 * @param job - ids and host timestamps of the call's job (an invocation payload has them)
 * @param call - the call and attempt
 * @param error - what happened
 * @param workerId - who reports it
 * @param stats - worker-side timestamps known so far (default: now)
 */
export function failedStatus(
  job: Pick<InvocationPayload, "executorId" | "jobId" | "hostJobCreateMs" | "hostSubmitMs"> & { jobNonce?: string | undefined },
  call: Pick<CallSpec, "callId" | "attempt">,
  error: RemoteErrorInfo,
  workerId: string,
  stats: Partial<CallStats> = {},
): CallStatus {
  const now = Date.now();
  return {
    protocolVersion: PROTOCOL_VERSION,
    executorId: job.executorId,
    jobId: job.jobId,
    callId: call.callId,
    attempt: call.attempt,
    ok: false,
    error,
    stats: { workerStartMs: now, workerEndMs: now, ...stats, hostJobCreateMs: job.hostJobCreateMs, hostSubmitMs: job.hostSubmitMs },
    logs: "",
    workerId,
    runtime: { tswrenVersion: TSWREN_VERSION, nodeVersion: process.version },
    ...(job.jobNonce !== undefined ? { jobNonce: job.jobNonce } : {}),
  };
}

/** JSON form of a {@link CallStatus}: byte fields become base64 strings. */
export type CallStatusJson = Omit<CallStatus, "result"> & {
  result?: { kind: "inline"; base64: string } | { kind: "output"; key: string; size: number };
};

/** Encode a status for storage as JSON text. */
export function encodeStatus(status: CallStatus): string {
  const { result, ...rest } = status;
  const json: CallStatusJson = { ...rest };
  if (result !== undefined) {
    json.result =
      result.kind === "inline" ? { kind: "inline", base64: Buffer.from(result.bytes).toString("base64") } : result;
  }
  return JSON.stringify(json);
}

/**
 * Decode `status.json` text. Only data is read from it: nothing in it is ever evaluated.
 * @throws TypeError when the text is not a status of this protocol version
 */
export function decodeStatus(text: string): CallStatus {
  return statusFromJson(JSON.parse(text));
}

/** A status from its parsed JSON form; only data is read. @throws TswrenError `TSWREN_PROTOCOL` when it is not one */
function statusFromJson(parsed: unknown): CallStatus {
  const json = parsed as CallStatusJson;
  if (typeof json !== "object" || json === null || json.protocolVersion !== PROTOCOL_VERSION || typeof json.callId !== "string") {
    throw new TswrenError(ErrorCodes.PROTOCOL, `not a tswren v${PROTOCOL_VERSION} call status; deploy the runtime of the client's tswren version`);
  }
  const { result, ...rest } = json;
  const status: CallStatus = { ...rest };
  if (result !== undefined) {
    status.result =
      result.kind === "inline" ? { kind: "inline", bytes: Buffer.from(result.base64, "base64") } : result;
  }
  return status;
}

/** JSON-safe form of an {@link InvocationPayload}: inline input bytes become base64 strings. */
export type InvocationPayloadJson = Omit<InvocationPayload, "calls"> & {
  calls: Array<Omit<CallSpec, "input"> & { input: Exclude<CallSpec["input"], { kind: "inline" }> | { kind: "inline"; base64: string } }>;
};

/** Encode a payload for JSON transports (OpenWhisk, Knative, AMQP). */
export function encodePayload(payload: InvocationPayload): InvocationPayloadJson {
  return {
    ...payload,
    calls: payload.calls.map((c) =>
      c.input.kind === "inline" ? { ...c, input: { kind: "inline", base64: Buffer.from(c.input.bytes).toString("base64") } } : { ...c, input: c.input },
    ),
  };
}

/**
 * Decode a payload received as JSON. Only data is read from it.
 * @throws TswrenError `TSWREN_PROTOCOL` when it is not a payload of this protocol version
 */
export function decodePayload(json: unknown): InvocationPayload {
  const p = json as InvocationPayloadJson;
  if (typeof p !== "object" || p === null || p.protocolVersion !== PROTOCOL_VERSION || !Array.isArray(p.calls)) {
    throw new TswrenError(ErrorCodes.PROTOCOL, `not a tswren v${PROTOCOL_VERSION} invocation payload; deploy the runtime of the client's tswren version`);
  }
  return {
    ...p,
    calls: p.calls.map((c) => (c.input.kind === "inline" ? { ...c, input: { kind: "inline", bytes: Buffer.from(c.input.base64, "base64") } } : { ...c, input: c.input })),
  };
}

/** Messages from a local worker process to the pool over the IPC channel. */
export type WorkerMessage =
  | { type: "ready"; workerId: string }
  | { type: "status"; status: CallStatus }
  /** The worker will exit after this message and runs nothing more (calls sent to it were not started). */
  | { type: "retiring"; reason: string }
  /**
   * An error escaped a call's code outside its flow (a timer or promise it left behind, or one
   * outside any call); it failed no other call, and the worker retires. `text` names the call.
   */
  | { type: "fault"; call: { executorId: string; jobId: string; callId: string } | null; text: string };

/** Messages from the pool to a local worker process. */
export type HostMessage = { type: "invoke"; payload: InvocationPayload } | { type: "shutdown" };
