/**
 * A call bounded by its timeout inside a long-lived runtime process (the OpenWhisk action's
 * container, the Knative server): when a call has not ended `timeoutMs` + {@link CALL_DEADLINE_GRACE_MS}
 * after it started (its function ignores `ctx.signal`), the runtime itself reports it as a
 * `timeout` (status written, returned to the platform's answer) and moves on; what the abandoned
 * function does later is never reported for it (its own status is not written). The platform's
 * time limit, when shorter, still ends the whole activation first. A status write that storage
 * does not answer within 3 s is left running and the status answered anyway (storage trouble
 * reaches the client in the platform's answer, as its own error, not as a timeout).
 */
import { failedStatus } from "tswren/internal";
import type { CallSpec, CallStatus, InvocationPayload, StorageBackend } from "tswren/internal";
import { executeCall, persistStatus, type HandlerHooks } from "./handler.js";
import { storageFor } from "./storage-cache.js";

/** Time a call gets past its timeout to end by itself (e.g. on `ctx.signal`) before it is reported. */
export const CALL_DEADLINE_GRACE_MS = 1500;
/** Longest wait for a call's status to be stored before answering with it anyway. */
const STATUS_WRITE_BOUND_MS = 3000;

/**
 * Run one call like `runCall`, but end it as a `timeout` at its deadline.
 * @param payload - the invocation
 * @param call - the call to run
 * @param hooks - worker id, logs, start marker
 * @returns the call's status (its own, or the runtime's timeout status)
 */
export async function runCallBounded(payload: InvocationPayload, call: CallSpec, hooks: HandlerHooks): Promise<CallStatus> {
  const workerStartMs = Date.now();
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<null>((resolve) => {
    timer = setTimeout(() => {
      timedOut = true;
      resolve(null);
    }, payload.timeoutMs + CALL_DEADLINE_GRACE_MS);
  });
  // The status of an abandoned call is never written: the runtime's timeout status stands.
  const running = executeCall(payload, call, hooks);
  running.catch(() => undefined);
  const first = await Promise.race([running, deadline]);
  clearTimeout(timer);
  if (first !== null && !timedOut) return boundedPersist(first.storage, payload, first.status);
  const seconds = payload.timeoutMs / 1000;
  const error = { kind: "timeout" as const, name: "TimeoutError", message: `the call ran past its timeout of ${seconds} s and was stopped by the tswren runtime (${hooks.workerId}); raise \`timeout\` if the function needs longer, or end on ctx.signal` };
  const status = failedStatus(payload, call, error, hooks.workerId, { workerStartMs, workerEndMs: Date.now() });
  return boundedPersist(await storageFor(payload.storage), payload, status);
}

/**
 * Write a status, answering with it after {@link STATUS_WRITE_BOUND_MS} at the latest when storage
 * does not answer (the write goes on; the platform's answer carries the status meanwhile).
 */
function boundedPersist(storage: StorageBackend, payload: InvocationPayload, status: CallStatus): Promise<CallStatus> {
  const stored = persistStatus(storage, payload, status).catch(() => status);
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<CallStatus>((resolve) => {
    timer = setTimeout(() => { resolve(status); }, STATUS_WRITE_BOUND_MS);
    timer.unref();
  });
  return Promise.race([stored, bound]).finally(() => { clearTimeout(timer); });
}
