/** Types of the executor's public methods (functions, inputs, mapReduce futures). */
import type { CallContext } from "./context.js";
import type { ObjectsInput } from "./data/objects.js";
import type { ResponseFuture } from "./future.js";
import type { GetResultOptions } from "./results.js";
import type { JobKind } from "./ids.js";
import type { CapturedFunction } from "./job/capture/index.js";
import type { CallSpec } from "./protocol.js";

/** A function tswren can run: it gets the item and the call's context. */
export type UserFunction<T, R> = (item: T, ctx: CallContext) => R | Promise<R>;

declare const reducedValue: unique symbol;

/**
 * The futures `mapReduce` returns (map calls, then reducers): `getResult(futures)` gives the
 * reducer's value `V` (with `reducerOnePerObject`, the list of the reducers' values).
 */
export type MapReduceFutures<V> = ResponseFuture[] & { readonly [reducedValue]: V };

/** Options of `getResult` that give `null` for failed calls instead of throwing. */
export type Lenient = GetResultOptions & { throwExcept: false };

/** Input items, or futures whose results become the items; `Partial` because `extraArgs` may complete them. */
export type Items<T> = Iterable<T | Partial<T> | ResponseFuture<T>> | AsyncIterable<T | Partial<T> | ResponseFuture<T>> | ObjectsInput;

/** Everything needed to submit one job. */
export interface JobRequest {
  kind: JobKind;
  captured: CapturedFunction;
  calls: CallSpec[];
  blob: Buffer | null;
  timeoutMs: number;
  memoryMb: number;
  retries: number;
  extraEnv: Record<string, string>;
  producesOutput: boolean;
  inputKind: "value" | "part";
  /** Use the remote invoker (undefined: the backend's default). */
  remoteInvoker?: boolean;
  /** The job gives one value (`callAsync`, a single reducer); see `ResponseFuture.single`. */
  single?: boolean;
}
