/**
 * Ending a future whose call returned futures (see `future-refs.ts`): it succeeds with the
 * returned calls' values once they all ended, or fails with the first failed one's error, named
 * as a future returned by this call.
 */
import type { ResponseFuture } from "../future.js";
import type { CallStatus } from "../protocol.js";
import type { StorageBackend } from "../storage/backend.js";
import { ReturnedFutureFailed, resolveFutureRefs } from "./future-refs.js";

export { hasFutureRefs } from "./future-refs.js";

/** Status reads of a returned call not ended yet: localhost storage is a local folder. */
const POLL_MS = { local: 50, remote: 500 };

/**
 * Resolve the futures a call returned, then end its future.
 * @param future - the returning call's future
 * @param status - its (successful) final status
 * @param value - its decoded result, holding future references
 * @param env - the storage to read statuses from, and when to stop (future ended, executor closed)
 */
export async function resolveReturnedFutures(
  future: ResponseFuture,
  status: CallStatus,
  value: unknown,
  env: { storage: StorageBackend; stopped: () => boolean },
): Promise<void> {
  const pollMs = env.storage.name === "localhost" ? POLL_MS.local : POLL_MS.remote;
  let resolved: unknown;
  try {
    resolved = await resolveFutureRefs(value, { storage: env.storage, pollMs, stopped: env.stopped });
  } catch (err) {
    if (!(err instanceof ReturnedFutureFailed)) throw err;
    const inner = err.status.error ?? { kind: "exception" as const, name: "Error", message: "no details" };
    const where = `${err.ref.executorId}/${err.ref.jobId}/${err.ref.callId}`;
    future.resolveWith({ ...status, ok: false, result: undefined, error: { ...inner, message: `${inner.message} (in call ${where}, a future this call returned)` } }, Date.now());
    return;
  }
  if (!future.done) future.resolveWith(status, Date.now(), resolved);
}
