/**
 * Cancellation of the job a caller waits on. A wait (`fx.wait`, `fx.getResult`) or a submission
 * (`fx.map`, `fx.callAsync`, `fx.mapReduce`) is cancelled by its `signal` option or, in the
 * `tswren` kernel, by the running cell's signal (ambient: aborted when the user interrupts the
 * cell). Cancelling drops the calls that have not started, stops running ones where the backend
 * can (local workers), ends their futures as `cancelled` (`TSWREN_CANCELLED`) and rejects the
 * awaiting promise at once.
 */
import { asError, ErrorCodes, TswrenError } from "./errors.js";
import type { ResponseFuture } from "./future.js";
import { kernelHook } from "./notebook/kernel-hook.js";


/**
 * The signal that cancels the current wait: the caller's `signal`, the running notebook cell's
 * signal, or both combined. Undefined when nothing can cancel it.
 */
export function cancelSignal(explicit?: AbortSignal): AbortSignal | undefined {
  const cell = kernelHook()?.cellSignal();
  if (explicit === undefined) return cell;
  if (cell === undefined || cell === explicit) return explicit;
  return AbortSignal.any([explicit, cell]);
}

/** The error a cancelled wait or submission rejects with. */
export function cancelledError(what: string, signal: AbortSignal): TswrenError {
  const why = signal.reason instanceof TswrenError ? signal.reason.message : "it was interrupted";
  return new TswrenError(ErrorCodes.CANCELLED, `${what} was cancelled: ${why}; its calls that had not ended were stopped`, { cause: signal.reason });
}

/**
 * Run `wait`; when `signal` aborts first, call `cancel` (which ends the calls waited on, so the
 * wait settles) and reject with `TSWREN_CANCELLED` (the listener is removed either way).
 * @throws TswrenError `TSWREN_CANCELLED`
 */
export async function cancellableWait<T>(
  what: string,
  signal: AbortSignal | undefined,
  cancel: () => void,
  wait: () => Promise<T>,
): Promise<T> {
  if (signal === undefined) return wait();
  const onAbort = (): void => { cancel(); };
  if (signal.aborted) onAbort();
  else signal.addEventListener("abort", onAbort, { once: true });
  try {
    const value = await wait();
    if (signal.aborted) throw cancelledError(what, signal);
    return value;
  } catch (err) {
    if (signal.aborted) throw cancelledError(what, signal);
    throw err;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/**
 * Guard a job submission: when `signal` aborts before the submission finished, reject at once
 * with `TSWREN_CANCELLED` and cancel the job's calls as soon as they exist.
 * @throws TswrenError `TSWREN_CANCELLED`
 */
export function cancellableSubmission(
  what: string,
  submission: Promise<ResponseFuture[]>,
  signal: AbortSignal | undefined,
  cancel: (futures: readonly ResponseFuture[], reason: string) => void,
): Promise<ResponseFuture[]> {
  if (signal === undefined) return submission;
  return new Promise((resolve, reject) => {
    let aborted = false;
    const onAbort = (): void => {
      aborted = true;
      reject(cancelledError(what, signal));
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener("abort", onAbort, { once: true });
    submission.then(
      (futures) => {
        signal.removeEventListener("abort", onAbort);
        if (aborted) cancel(futures, `${what} was interrupted while it was submitted`);
        else resolve(futures);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(asError(err));
      },
    );
  });
}
