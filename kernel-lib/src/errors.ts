/**
 * Coded errors. Every error tswren raises on purpose is a {@link TswrenError} with a stable
 * `code` and a message that names the ids involved and what to do about it.
 */

import { inspect } from "node:util";
import { formatCodedError, formatRemoteError } from "./error-view/format.js";

/** Stable error codes; the part after `TSWREN_` never changes meaning. */
export const ErrorCodes = {
  CONFIG_FILE: "TSWREN_CONFIG_FILE",
  CONFIG_UNKNOWN_KEY: "TSWREN_CONFIG_UNKNOWN_KEY",
  CONFIG_BAD_VALUE: "TSWREN_CONFIG_BAD_VALUE",
  BAD_OPTION: "TSWREN_BAD_OPTION",
  BAD_INPUT: "TSWREN_BAD_INPUT",
  NOT_SERIALIZABLE: "TSWREN_NOT_SERIALIZABLE",
  UNRESOLVED_NAME: "TSWREN_UNRESOLVED_NAME",
  CAPTURE_FAILED: "TSWREN_CAPTURE_FAILED",
  MODULE_BUNDLE: "TSWREN_MODULE_BUNDLE",
  NO_SUCH_KEY: "TSWREN_NO_SUCH_KEY",
  NO_SUCH_BUCKET: "TSWREN_NO_SUCH_BUCKET",
  BAD_KEY: "TSWREN_BAD_KEY",
  STORAGE: "TSWREN_STORAGE",
  STORAGE_CREDENTIALS: "TSWREN_STORAGE_CREDENTIALS",
  STORAGE_UNREACHABLE: "TSWREN_STORAGE_UNREACHABLE",
  REMOTE_FUNCTION: "TSWREN_REMOTE_FUNCTION",
  WORKER_CRASHED: "TSWREN_WORKER_CRASHED",
  WORKER_EXITED: "TSWREN_WORKER_EXITED",
  OUT_OF_MEMORY: "TSWREN_OUT_OF_MEMORY",
  TIMEOUT: "TSWREN_TIMEOUT",
  CALL_LOST: "TSWREN_CALL_LOST",
  CANCELLED: "TSWREN_CANCELLED",
  WAIT_TIMEOUT: "TSWREN_WAIT_TIMEOUT",
  EXECUTOR_CLOSED: "TSWREN_EXECUTOR_CLOSED",
  UNKNOWN_BACKEND: "TSWREN_UNKNOWN_BACKEND",
  PROTOCOL: "TSWREN_PROTOCOL",
  /** A runtime received a job payload it cannot run (a missing module or data key, a bad storage section). */
  BAD_PAYLOAD: "TSWREN_BAD_PAYLOAD",
  /** An http(s) data source (`objects("https://…")`) answered with an error or could not be reached. */
  HTTP: "TSWREN_HTTP",
  /** The compute platform refused the credentials (HTTP 401/403, or IAM refused the key). */
  COMPUTE_CREDENTIALS: "TSWREN_COMPUTE_CREDENTIALS",
  /** The compute platform could not be reached (network errors after bounded retries). */
  COMPUTE_UNREACHABLE: "TSWREN_COMPUTE_UNREACHABLE",
  /** The compute platform kept throttling (HTTP 429) with no invocation accepted for a long time. */
  COMPUTE_THROTTLED: "TSWREN_COMPUTE_THROTTLED",
  /** The compute platform refused a request or answered something unexpected. */
  COMPUTE: "TSWREN_COMPUTE",
  /** The deployed runtime is of another tswren version than the client. */
  RUNTIME_VERSION: "TSWREN_RUNTIME_VERSION",
  /** The runtime (action zip, deployed action) is not there. */
  RUNTIME_MISSING: "TSWREN_RUNTIME_MISSING",
  /** The RabbitMQ broker of `monitoring: "rabbitmq"` could not be reached (or did not answer in time). */
  MONITOR_UNREACHABLE: "TSWREN_MONITOR_UNREACHABLE",
  /** The RabbitMQ broker refused the credentials or the vhost of `rabbitmq.amqp_url`. */
  MONITOR_CREDENTIALS: "TSWREN_MONITOR_CREDENTIALS",
  /** A wait or getResult ran longer than `tswren.execution_timeout` (its calls keep running). */
  EXECUTION_TIMEOUT: "TSWREN_EXECUTION_TIMEOUT",
  /** A map's items do not give the function the arguments it declares (checked before any invocation). */
  ARGUMENT_MISMATCH: "TSWREN_ARGUMENT_MISMATCH",
  /** No usable signing key for a runtime (client side), or a key that is too short. */
  SIGNING_KEY: "TSWREN_SIGNING_KEY",
  /** A runtime refused an invocation: not signed, forged, expired, or signed with another key (HTTP 401). */
  UNAUTHORIZED: "TSWREN_UNAUTHORIZED",
  /** A function or module bundle's bytes do not match the hash in the signed payload. */
  BUNDLE_MISMATCH: "TSWREN_BUNDLE_MISMATCH",
  /** A payload names storage or keys outside the deployment's configured storage / the job's prefix. */
  STORAGE_NOT_ALLOWED: "TSWREN_STORAGE_NOT_ALLOWED",
  /** An input generator produced more items than `tswren.max_calls`. */
  TOO_MANY_CALLS: "TSWREN_TOO_MANY_CALLS",
  /** No record of the job named to `attach` / `tswren replay` in the configured storage. */
  NO_SUCH_JOB: "TSWREN_NO_SUCH_JOB",
  /** An attached job ran on localhost or docker, and the process that submitted it ended before the call did. */
  JOB_DIED_WITH_CLIENT: "TSWREN_JOB_DIED_WITH_CLIENT",
} as const;

/** One of the {@link ErrorCodes} values. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Base class of every error tswren raises on purpose. */
export class TswrenError extends Error {
  /** Stable machine-readable code, e.g. `TSWREN_NO_SUCH_KEY`. */
  readonly code: ErrorCode;

  /**
   * @param code - stable error code
   * @param message - what went wrong, the ids involved and the remedy
   * @param options - the underlying cause, if any
   */
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "TswrenError";
    this.code = code;
  }

  /** How `util.inspect` (tslab, `console.error`) shows it: code, message, cause and the caller's frames. */
  [inspect.custom](): string {
    return formatCodedError(this);
  }
}

/** Where a remote failure happened: the ids of the call. */
export interface CallRef {
  executorId: string;
  jobId: string;
  callId: string;
}

/**
 * A call failed on the worker side: the user function threw, or its worker crashed, ran out of
 * memory, exited or timed out. Carries the remote error name, message and stack.
 */
export class RemoteFunctionError extends TswrenError {
  /** The remote error's class name (e.g. `TypeError`), or the failure kind. */
  readonly remoteName: string;
  /** The remote stack trace as text, when there was one. */
  readonly remoteStack: string | undefined;
  /** The call this error belongs to. */
  readonly call: CallRef;
  /** The attempt (1-based) whose failure this is. */
  readonly attempt: number;
  /** The remote error's own message (`message` adds the call ids). */
  readonly remoteMessage: string;
  /** A short preview of the call's input, when the worker sent one. */
  readonly inputPreview: string | undefined;

  /**
   * @param code - `TSWREN_REMOTE_FUNCTION` for a throw, or the crash kind
   * @param info - remote name, message, stack, call ids, attempt number and input preview
   */
  constructor(
    code: ErrorCode,
    info: { remoteName: string; message: string; remoteStack?: string; call: CallRef; attempt: number; inputPreview?: string },
  ) {
    const where = `${info.call.executorId}/${info.call.jobId}/${info.call.callId}`;
    super(code, `call ${where} failed: ${info.remoteName}: ${info.message}`);
    this.name = "RemoteFunctionError";
    this.remoteName = info.remoteName;
    this.remoteStack = info.remoteStack;
    this.call = info.call;
    this.attempt = info.attempt;
    this.remoteMessage = info.message;
    this.inputPreview = info.inputPreview;
    if (info.remoteStack !== undefined) {
      this.stack = `${this.name}: ${this.message}\n    --- remote stack ---\n${info.remoteStack}`;
    }
  }

  /**
   * How `util.inspect` (tslab, `console.error`) shows it: one block with the call, the input's
   * index and preview, the remote message and only the user's frames, at the user's cell or file lines.
   */
  override [inspect.custom](): string {
    return formatRemoteError(this);
  }
}

/**
 * `value` itself when it is an `Error`, else an `Error` whose message is `String(value)`: for
 * passing on what a promise rejected with or a callback reported, which may be anything.
 * @param value - a caught or reported failure
 * @returns an `Error` to reject or destroy with
 */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** True when `err` is a {@link TswrenError} with the given code. */
export function hasCode(err: unknown, code: ErrorCode): boolean {
  return err instanceof TswrenError && err.code === code;
}
