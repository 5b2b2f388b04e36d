/**
 * `fx.replay(future)`: run a failed call again in this process, with the same function bundle
 * (read from storage and checked against its hash, as a worker does), the same input (inline,
 * a range of the job's data, a part of `objects(...)`, or a reducer's map results), the same
 * extra environment and a context like the worker's. Nothing is written: no status, no output.
 * The function's error is thrown as it is, with its real stack, so a breakpoint or a
 * `console.log` in the notebook or script sees the call.
 */
import { createHash } from "node:crypto";
import type { CallContext } from "./context.js";
import { openPart } from "./data/cloud-object.js";
import type { PartSpec } from "./data/partitioner.js";
import { ErrorCodes, TswrenError } from "./errors.js";
import type { ResponseFuture } from "./future.js";
import { bundleModuleHashes, loadFunctionBundle } from "./job/function-bundle.js";
import type { CallSpec, InvocationPayload } from "./protocol.js";
import { deserializeValue } from "./serialize.js";
import type { StorageBackend } from "./storage/backend.js";
import * as keys from "./storage/keys.js";
import { Storage } from "./storage/storage.js";

/** What replaying one call needs: its job's payload (without calls) and the call's spec. */
export interface ReplaySource {
  base: Omit<InvocationPayload, "calls" | "hostSubmitMs">;
  call: CallSpec;
  /** The futures of the map job, for a reducer's input. */
  mapFutures?: readonly ResponseFuture[];
}

function contentHash(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex").slice(0, 32);
}

async function checkedGet(storage: StorageBackend, bucket: string, key: string, hash: string, what: string): Promise<Buffer> {
  let bytes: Buffer;
  try {
    bytes = await storage.get(bucket, key);
  } catch (err) {
    throw new TswrenError(ErrorCodes.NO_SUCH_KEY, `replay needs the ${what} ${bucket}/${key}, which is no longer in storage (the executor's data was cleaned?); run the job again instead`, { cause: err });
  }
  if (contentHash(bytes) !== hash) {
    throw new TswrenError(ErrorCodes.BUNDLE_MISMATCH, `the ${what} ${bucket}/${key} changed in storage since the job ran (hash ${contentHash(bytes)}, expected ${hash}); it was not run`);
  }
  return bytes;
}

/** The user function of the call's job, loaded as a worker loads it. */
async function loadReplayFunction(storage: StorageBackend, base: ReplaySource["base"]): Promise<(...args: unknown[]) => unknown> {
  const { bucket, prefix } = base.storage;
  const bundle = await checkedGet(storage, bucket, base.funcKey, base.funcHash, "function bundle");
  const sources = new Map<string, string>();
  await Promise.all(
    bundleModuleHashes(bundle).map(async (hash) => {
      const bytes = await checkedGet(storage, bucket, keys.moduleKey(prefix, base.executorId, hash), hash, "module bundle");
      sources.set(hash, bytes.toString("utf8"));
    }),
  );
  return loadFunctionBundle(bundle, (hash) => sources.get(hash) ?? "");
}

async function readReplayInput(storage: StorageBackend, src: ReplaySource): Promise<unknown> {
  const { base, call } = src;
  const input = call.input;
  if (input.kind === "reduce") {
    const byId = new Map((src.mapFutures ?? []).map((f) => [f.callId, f]));
    return Promise.all(input.mapCallIds.map((id) => {
      const f = byId.get(id);
      if (f === undefined) throw new TswrenError(ErrorCodes.BAD_INPUT, `replay of reducer ${base.jobId}: map call ${input.mapJobId}/${id} is not known to this executor`);
      return f.result();
    }));
  }
  let value: unknown;
  if (input.kind === "inline") value = deserializeValue(input.bytes);
  else {
    if (base.dataKey === null) throw new TswrenError(ErrorCodes.PROTOCOL, `job ${base.executorId}/${base.jobId} call ${call.callId} has a ranged input but no data key`);
    value = deserializeValue(await storage.get(base.storage.bucket, base.dataKey, { start: input.start, end: input.end - 1 }));
  }
  return base.inputKind === "part" ? openPart(value as PartSpec, storage) : value;
}

function withEnv<T>(extraEnv: Record<string, string>, run: () => Promise<T>): Promise<T> {
  const saved = Object.keys(extraEnv).map((k) => [k, process.env[k]] as const);
  Object.assign(process.env, extraEnv);
  return run().finally(() => {
    for (const [k, v] of saved) {
      if (v === undefined) Reflect.deleteProperty(process.env, k);
      else process.env[k] = v;
    }
  });
}

/**
 * Run the call described by `src` here and return its value (or throw its error).
 * @param src - the call's job payload and spec
 * @param storage - the executor's storage backend
 * @param timeoutMs - the call's time limit: its `ctx.signal` aborts after it (not enforced otherwise, so a debugger can pause)
 */
export async function replayCall(src: ReplaySource, storage: StorageBackend, timeoutMs: number): Promise<unknown> {
  const { base, call } = src;
  const fn = await loadReplayFunction(storage, base);
  const item = await readReplayInput(storage, src);
  const abort = new AbortController();
  const timer = setTimeout(() => { abort.abort(new TswrenError(ErrorCodes.TIMEOUT, "call timed out")); }, timeoutMs);
  timer.unref();
  const ctx: CallContext = {
    id: Number.parseInt(call.callId, 10),
    callId: call.callId,
    jobId: base.jobId,
    executorId: base.executorId,
    attempt: call.attempt,
    storage: new Storage(storage, base.storage.bucket, { prefix: base.storage.prefix, executorId: base.executorId }),
    signal: abort.signal,
  };
  try {
    return await withEnv(base.extraEnv, () => Promise.resolve().then(() => fn(item, ctx)));
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Why `future` cannot be replayed by executor `executorId` (no call spec was kept for it).
 * @returns a TswrenError `TSWREN_BAD_INPUT` naming the reason and what replay takes
 */
export function replayRefused(future: ResponseFuture, executorId: string): TswrenError {
  const why =
    future.executorId !== executorId ? `it belongs to executor ${future.executorId}`
    : !future.done ? "it has not ended yet (await fx.wait([future]) first)"
    : future.status === "cancelled" ? "it was cancelled, not failed"
    : future.error === undefined ? "it succeeded"
    : "no call spec was kept for it";
  return new TswrenError(ErrorCodes.BAD_INPUT, `replay: call ${future.executorId}/${future.jobId}/${future.callId} cannot be replayed: ${why}; replay takes a call of this executor that failed`);
}
