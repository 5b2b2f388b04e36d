/**
 * Futures returned by a function, as Lithops resolves them: a call that runs `map` or `callAsync`
 * through an executor created inside the worker may return those futures (alone, in an array or
 * in a plain object). The worker replaces each {@link ResponseFuture} by a {@link FutureRef}
 * (ids, job nonce, storage location: plain data) before serializing the result; the client reads
 * the referenced calls' statuses from storage and puts their values in place, recursively (a
 * referenced call may itself return futures). The call's future ends only once every future it
 * returned ended: with their values, or with the first one's error.
 */
import { ErrorCodes, TswrenError } from "../errors.js";
import { ResponseFuture } from "../future.js";
import type { CallStatus } from "../protocol.js";
import { deserializeValue } from "../serialize.js";
import type { StorageBackend } from "../storage/backend.js";
import { readCallStatus } from "../storage/status-records.js";

/** Where a future's call writes its status: known to the executor that submitted it. */
export interface FutureOrigin {
  jobNonce: string;
  bucket: string;
  prefix: string;
  /** Attempts the call may take (retries + 1): a failed status of an earlier attempt is not final. */
  maxAttempts: number;
}

/** A returned future, as plain data in a call's result. */
export interface FutureRef extends FutureOrigin {
  tswrenFutureRef: 1;
  executorId: string;
  jobId: string;
  callId: string;
}

const origins = new WeakMap<ResponseFuture, FutureOrigin>();

/**
 * Remember where the calls of freshly submitted futures write their statuses (the executor calls
 * this, so that a function returning these futures can ship them as references).
 */
export function noteFutureOrigin(futures: readonly ResponseFuture[], origin: FutureOrigin): void {
  for (const f of futures) origins.set(f, origin);
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype;
}

/**
 * The value with every {@link ResponseFuture} of this process (at the top, in arrays, in plain
 * objects) replaced by a {@link FutureRef}; the value itself when it holds none.
 * @throws TswrenError `TSWREN_NOT_SERIALIZABLE` for a future this process did not submit
 */
export function encodeFutureRefs(value: unknown): unknown {
  if (value instanceof ResponseFuture) return toRef(value);
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    value.forEach((v: unknown, i) => {
      const e = encodeFutureRefs(v);
      if (e !== v) (out ??= [...value as unknown[]])[i] = e;
    });
    return out ?? value;
  }
  if (!isPlainObject(value)) return value;
  let out: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(value)) {
    const e = encodeFutureRefs(v);
    if (e !== v) (out ??= { ...value })[k] = e;
  }
  return out ?? value;
}

function toRef(f: ResponseFuture): FutureRef {
  const origin = origins.get(f);
  if (origin === undefined) {
    throw new TswrenError(ErrorCodes.NOT_SERIALIZABLE, `the function returned future ${f.executorId}/${f.jobId}/${f.callId}, which no executor of this worker submitted; return futures of an executor created inside the function`);
  }
  return { tswrenFutureRef: 1, executorId: f.executorId, jobId: f.jobId, callId: f.callId, ...origin };
}

function isRef(value: unknown): value is FutureRef {
  return typeof value === "object" && value !== null && (value as Partial<FutureRef>).tswrenFutureRef === 1 && typeof (value as Partial<FutureRef>).callId === "string";
}

/** True when a decoded result holds future references (cheap for values that hold none). */
export function hasFutureRefs(value: unknown): boolean {
  if (isRef(value)) return true;
  if (typeof value !== "object" || value === null) return false;
  if (Array.isArray(value)) return value.some((v) => hasFutureRefs(v));
  return isPlainObject(value) && Object.values(value).some((v) => hasFutureRefs(v));
}

/** How the client reads the statuses of referenced calls. */
export interface RefReader {
  storage: StorageBackend;
  /** Milliseconds between two reads of a status not written yet. */
  pollMs: number;
  /** True once the waiting should stop (the call's future ended, the executor closed). */
  stopped(): boolean;
}

/** A referenced call failed: its status, to fail the returning call with. */
export class ReturnedFutureFailed extends Error {
  /** @param status - the referenced call's final (failed) status */
  constructor(readonly ref: FutureRef, readonly status: CallStatus) {
    super(`future ${ref.executorId}/${ref.jobId}/${ref.callId} returned by the call failed: ${status.error?.message ?? "no details"}`);
  }
}

/**
 * Replace every {@link FutureRef} of a decoded result by the referenced call's value, recursively.
 * @throws ReturnedFutureFailed when a referenced call failed
 * @throws TswrenError `TSWREN_CANCELLED` when `reader.stopped()` turns true first
 */
export async function resolveFutureRefs(value: unknown, reader: RefReader): Promise<unknown> {
  if (isRef(value)) return resolveFutureRefs(await readRef(value, reader), reader);
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return Promise.all((value as unknown[]).map((v) => (hasFutureRefs(v) ? resolveFutureRefs(v, reader) : v)));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = hasFutureRefs(v) ? await resolveFutureRefs(v, reader) : v;
  return out;
}

async function readRef(ref: FutureRef, reader: RefReader): Promise<unknown> {
  for (;;) {
    if (reader.stopped()) throw new TswrenError(ErrorCodes.CANCELLED, `stopped waiting for future ${ref.executorId}/${ref.jobId}/${ref.callId} returned by the call`);
    const status = await finalStatus(reader.storage, ref);
    if (status !== null) {
      if (!status.ok || status.result === undefined) {
        if (!status.ok) throw new ReturnedFutureFailed(ref, status);
        return undefined;
      }
      const bytes = status.result.kind === "inline" ? status.result.bytes : await reader.storage.get(ref.bucket, status.result.key);
      return deserializeValue(bytes);
    }
    await new Promise((resolve) => setTimeout(resolve, reader.pollMs));
  }
}

async function finalStatus(storage: StorageBackend, ref: FutureRef): Promise<CallStatus | null> {
  const job = { bucket: ref.bucket, prefix: ref.prefix, executorId: ref.executorId, jobId: ref.jobId, jobNonce: ref.jobNonce };
  let status: CallStatus | null;
  try {
    status = await readCallStatus(storage, job, ref.callId);
  } catch (err) {
    if (err instanceof TswrenError && err.code === ErrorCodes.NO_SUCH_KEY) return null;
    throw err;
  }
  if (status === null || status.jobNonce !== ref.jobNonce) return null;
  return status.ok || status.attempt >= ref.maxAttempts ? status : null;
}
