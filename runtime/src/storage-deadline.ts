/**
 * Storage steps of a call (writing its start marker, reading its function and input, writing its
 * output) are bounded by the call's own timeout: when the store stops answering (a frozen or
 * black-holed endpoint), the call fails within its timeout with an error that names storage,
 * instead of being killed later as a timeout of the function.
 */
import { asError } from "tswren/internal";
import type { InvocationPayload } from "tswren/internal";

/** A storage step of a call did not finish within the call's timeout. */
export class StorageStalled extends Error {
  constructor(payload: InvocationPayload, what: string) {
    const { backend, bucket } = payload.storage;
    super(
      `${backend} storage did not answer within the call's timeout of ${payload.timeoutMs / 1000} s while ${what} ` +
        `(bucket ${JSON.stringify(bucket)}); check that the storage endpoint is up and reachable from the workers`,
    );
    this.name = "StorageError";
  }
}

/**
 * Await `step`; when `signal` (the call's timeout) fires first, reject with {@link StorageStalled}.
 * @param what - what the step does, for the message (e.g. "reading the call's input")
 */
export function storageStep<T>(step: Promise<T>, what: string, payload: InvocationPayload, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new StorageStalled(payload, what));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => { reject(new StorageStalled(payload, what)); };
    signal.addEventListener("abort", onAbort, { once: true });
    step.then(
      (value) => { signal.removeEventListener("abort", onAbort); resolve(value); },
      (err: unknown) => { signal.removeEventListener("abort", onAbort); reject(asError(err)); },
    );
  });
}
