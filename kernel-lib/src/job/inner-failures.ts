/**
 * Failures only an executor inside a call knows. A function may return the futures of an
 * executor it created (`future-refs.ts`); the executor that invoked the function then reads those
 * calls' statuses from storage. A call that ended without writing a status (its worker or
 * activation died, it was lost, the inner executor cancelled it) is known only to the inner
 * executor, through its own channel (a local pool's exit event, an OpenWhisk activation record, a
 * Knative connection that broke). So an executor running inside a call writes the failed status
 * it determined itself when storage holds none for that attempt: the returning call then fails
 * within seconds with the real cause, not at `execution_timeout`.
 */
import { ErrorCodes, RemoteFunctionError, TswrenError, type ErrorCode } from "../errors.js";
import type { ResponseFuture } from "../future.js";
import { encodeStatus, failedStatus, type InvocationPayload, type RemoteErrorInfo } from "../protocol.js";
import type { StorageRef } from "../protocol.js";
import type { StorageBackend } from "../storage/backend.js";
import * as keys from "../storage/keys.js";
import { readCallStatus } from "../storage/status-records.js";
import { insideCall } from "./call-config.js";
import { noteFutureOrigin } from "./future-refs.js";

/** The failure kind a status carries for an error code a future ended with. */
const KIND_OF_CODE: Partial<Record<ErrorCode, RemoteErrorInfo["kind"]>> = {
  [ErrorCodes.REMOTE_FUNCTION]: "exception",
  [ErrorCodes.WORKER_CRASHED]: "crash",
  [ErrorCodes.WORKER_EXITED]: "exit",
  [ErrorCodes.OUT_OF_MEMORY]: "oom",
  [ErrorCodes.TIMEOUT]: "timeout",
  [ErrorCodes.PROTOCOL]: "protocol",
  [ErrorCodes.STORAGE]: "storage",
  [ErrorCodes.BUNDLE_MISMATCH]: "bundle",
};

/** The job fields a failed status needs. */
type JobBase = Pick<InvocationPayload, "executorId" | "jobId" | "hostJobCreateMs"> & { jobNonce?: string | undefined };

/**
 * Remember where freshly submitted futures' calls write their statuses (so a function may return
 * them), and, in an executor running inside a call, write the failures it determines itself.
 * @param futures - the job's futures
 * @param base - the job's ids and nonce
 * @param b - the executor's storage
 * @param maxAttempts - retries + 1
 */
export function noteSubmitted(futures: readonly ResponseFuture[], base: JobBase, b: { storage: StorageBackend; storageRef: StorageRef }, maxAttempts: number): void {
  noteFutureOrigin(futures, { jobNonce: base.jobNonce ?? "", bucket: b.storageRef.bucket, prefix: b.storageRef.prefix, maxAttempts });
  if (!insideCall()) return;
  for (const f of futures) {
    f.onSettled(() => {
      if (f.status === "success") return;
      // Best effort: the invoking executor's own deadline still ends the returning call.
      persistFailure(f, base, b).catch(() => undefined);
    });
  }
}

/** The failure of a future as status error details. */
function errorInfo(f: ResponseFuture): RemoteErrorInfo {
  const err = f.error;
  if (err instanceof RemoteFunctionError) {
    return { kind: KIND_OF_CODE[err.code] ?? "lost", name: err.remoteName, message: err.remoteMessage, ...(err.remoteStack !== undefined ? { stack: err.remoteStack } : {}) };
  }
  const name = err instanceof TswrenError ? err.code : (err?.name ?? "Error");
  const kind = err instanceof TswrenError ? (KIND_OF_CODE[err.code] ?? "lost") : "lost";
  return { kind, name, message: err?.message ?? `the call ended as ${f.status}` };
}

async function persistFailure(f: ResponseFuture, base: JobBase, b: { storage: StorageBackend; storageRef: StorageRef }): Promise<void> {
  const { bucket, prefix } = b.storageRef;
  const key = keys.statusKey(prefix, f.executorId, f.jobId, f.callId);
  try {
    // `status.json`, or the localhost pool's status batches (already holding a failure it reported).
    const existing = await readCallStatus(b.storage, { bucket, prefix, executorId: f.executorId, jobId: f.jobId }, f.callId);
    if (existing !== null && existing.jobNonce === base.jobNonce && existing.attempt >= f.attempt) return; // the worker's own status wins
  } catch (err) {
    if (!(err instanceof TswrenError && err.code === ErrorCodes.NO_SUCH_KEY)) return;
  }
  const stats = f.stats;
  const status = failedStatus({ ...base, hostSubmitMs: stats.hostSubmitMs ?? base.hostJobCreateMs }, { callId: f.callId, attempt: f.attempt }, errorInfo(f), f.workerId ?? "unknown", stats);
  await b.storage.put(bucket, key, encodeStatus(status));
}
