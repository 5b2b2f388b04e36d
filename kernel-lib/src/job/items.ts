/**
 * Turns what a user passes as `iterdata` into the job's input items: plain values (futures of an
 * earlier job become their results, `extraArgs` are merged in) or, for `objects(...)`, the part
 * specs the partitioner made. Runs entirely before anything is invoked.
 */
import { isObjectsInput, type ObjectsInput } from "../data/objects.js";
import { partition, type PartSpec } from "../data/partitioner.js";
import { ErrorCodes, TswrenError } from "../errors.js";
import { ResponseFuture } from "../future.js";
import type { StorageBackend } from "../storage/backend.js";
import { mergeExtraArgs, type CallOptions } from "./options.js";

/** Items of a job: values, or part specs of `objects(...)`. */
export type JobItems = { inputKind: "value"; items: unknown[] } | { inputKind: "part"; items: PartSpec[] };

/** What partitioning needs from the executor. */
export interface ItemsEnv {
  storage: () => Promise<StorageBackend>;
  /** True on the localhost backend, where local paths are allowed as data. */
  localFiles: boolean;
  /** `tswren.max_calls`: items beyond it are TSWREN_TOO_MANY_CALLS (default 1,000,000). */
  maxCalls?: number;
}

/** Iterdata accepted by map: values, futures of earlier calls, or `objects(...)`. */
export type Iterdata = Iterable<unknown> | AsyncIterable<unknown> | ObjectsInput;

/**
 * Resolve `iterdata` into items.
 * @throws TswrenError `TSWREN_BAD_INPUT` / `TSWREN_BAD_OPTION` and the partitioner's errors
 */
export async function resolveItems(what: string, iterdata: Iterdata, opts: CallOptions, env: ItemsEnv): Promise<JobItems> {
  const chunked = opts.chunkSize !== undefined || opts.chunkNumber !== undefined || opts.lineAligned !== undefined;
  if (isObjectsInput(iterdata)) {
    if (opts.extraArgs !== undefined) {
      throw new TswrenError(ErrorCodes.BAD_OPTION, `${what}: extraArgs cannot be combined with objects(...) input (each call gets a CloudObject); use the function's captured names instead`);
    }
    const chunk = {
      ...(opts.chunkSize !== undefined ? { chunkSize: opts.chunkSize } : {}),
      ...(opts.chunkNumber !== undefined ? { chunkNumber: opts.chunkNumber } : {}),
      ...(opts.lineAligned !== undefined ? { lineAligned: opts.lineAligned } : {}),
    };
    return { inputKind: "part", items: await partition(iterdata, { storage: await env.storage(), localFiles: env.localFiles }, chunk) };
  }
  if (chunked) {
    throw new TswrenError(ErrorCodes.BAD_OPTION, `${what}: chunkSize, chunkNumber and lineAligned apply only to objects(...) input, e.g. fx.map(fn, objects("s3://bucket/prefix/"), { chunkSize: 64 << 20 })`);
  }
  return { inputKind: "value", items: mergeExtraArgs(what, await materialize(what, iterdata, env.maxCalls ?? 1_000_000), opts.extraArgs) };
}

async function materialize(what: string, iterdata: Iterable<unknown> | AsyncIterable<unknown>, maxCalls: number): Promise<unknown[]> {
  if (iterdata === null || iterdata === undefined || (typeof iterdata !== "object" && typeof iterdata !== "string")) {
    throw new TswrenError(ErrorCodes.BAD_INPUT, `${what}: iterdata must be an array or iterable of items; got ${iterdata === null ? "null" : typeof iterdata}`);
  }
  if (typeof iterdata === "string") {
    throw new TswrenError(ErrorCodes.BAD_INPUT, `${what}: iterdata is a string; pass an array of items, e.g. [${JSON.stringify(iterdata)}], or objects("s3://bucket/prefix/") for data in storage`);
  }
  const isIterable = Symbol.iterator in iterdata || Symbol.asyncIterator in iterdata;
  if (!isIterable) throw new TswrenError(ErrorCodes.BAD_INPUT, `${what}: iterdata must be an array or iterable of items; got a non-iterable object`);
  const items: unknown[] = [];
  for await (const item of iterdata) {
    if (items.length >= maxCalls) {
      throw new TswrenError(ErrorCodes.TOO_MANY_CALLS, `${what}: iterdata yielded more than ${maxCalls} items (tswren.max_calls); pass fewer items or raise tswren.max_calls`);
    }
    items.push(item instanceof ResponseFuture ? await item.result() : item);
  }
  return items;
}
