/**
 * `FunctionExecutor`: the public API. Validates at the boundary (options, inputs, the function's
 * captured names) before anything is uploaded or invoked, then delegates to {@link ExecutorCore}.
 */
import { loadConfig, type TswrenConfig } from "./config/index.js";
import { ErrorCodes, TswrenError } from "./errors.js";
import { ExecutorCore } from "./executor-core.js";
import { ResponseFuture } from "./future.js";
import { newExecutorId, type JobKind } from "./ids.js";
import { captureFunction } from "./job/capture/index.js";
import { isObjectsInput, type ObjectsInput } from "./data/objects.js";
import type { PartSpec } from "./data/partitioner.js";
import { resolveItems, type Iterdata } from "./job/items.js";
import { validateCallOptions, type CallOptions, type MapReduceOptions } from "./job/options.js";
import { reduceCalls } from "./job/reduce.js";
import { prepareInputs } from "./job/prepare.js";
import { serializeValue } from "./serialize.js";
import { executorSources, validateExecutorOptions, type ExecutorOptions } from "./executor-options.js";
import { collectResults, type GetResultOptions } from "./results.js";
import { Storage } from "./storage/storage.js";
import { waitFutures, type WaitOptions } from "./wait.js";
import type { CallContext } from "./context.js";
import { progressFor } from "./progress/progress.js";
import { plotFutures, type PlotOptions, type PlotResult } from "./plot/plot.js";
import { cancelSignal, cancellableSubmission, cancellableWait } from "./cancel.js";

/** A function tswren can run: it gets the item and the call's context. */
export type UserFunction<T, R> = (item: T, ctx: CallContext) => R | Promise<R>;

/** Input items: values, or futures whose results become the items; `Partial` because `extraArgs` may complete them. */
type Items<T> = Iterable<T | Partial<T> | ResponseFuture<T>> | AsyncIterable<T | Partial<T> | ResponseFuture<T>> | ObjectsInput;

/**
 * Runs functions over inputs on the configured compute backend.
 * @example
 * await using fx = functionExecutor();
 * await fx.map((x: number) => x + 7, [1, 2, 3, 4]);
 * console.log(await fx.getResult()); // [8, 9, 10, 11]
 */
export class FunctionExecutor {
  /** @internal */
  readonly core: ExecutorCore;

  /**
   * @param options - backend, storage, limits and a `config` object that override the config file
   * @throws TswrenError `TSWREN_BAD_OPTION` / `TSWREN_CONFIG_*` for bad options or config
   */
  constructor(options: ExecutorOptions = {}) {
    validateExecutorOptions(options);
    const config = loadConfig({
      ...(options.config !== undefined ? { config: options.config } : {}),
      ...executorSources(options),
    });
    this.core = new ExecutorCore(newExecutorId(), config);
  }

  /** This executor's id, e.g. `a1b2c3-0`; it prefixes every storage key the executor writes. */
  get executorId(): string {
    return this.core.executorId;
  }

  /** The loaded configuration (secrets included: print it with `redactConfig`). */
  get config(): TswrenConfig {
    return this.core.config;
  }

  /** One line for people: where calls run and where data lives. */
  async describe(): Promise<string> {
    const b = await this.core.backends();
    return `${b.compute.describe()}; storage: ${b.storage.name} bucket ${b.storageRef.bucket}`;
  }

  /** A storage client on this executor's storage backend and bucket. */
  async storage(): Promise<Storage> {
    const b = await this.core.backends();
    return new Storage(b.storage, b.storageRef.bucket, { prefix: b.storageRef.prefix, executorId: this.executorId });
  }

  /**
   * Run `fn` once with `data`.
   * @returns a one-element list with the call's future
   */
  callAsync<T, R>(fn: UserFunction<T, R>, data: T, options?: CallOptions): Promise<ResponseFuture<Awaited<R>>[]> {
    return this.startJob("A", "callAsync", fn, [data], options) as Promise<ResponseFuture<Awaited<R>>[]>;
  }

  /**
   * Run `fn` over every item, one call per item, results in input order.
   * @param iterdata - items (or futures of an earlier job, whose results become the items)
   * @returns the calls' futures, in input order
   * @throws TswrenError with a code naming the problem, before anything is invoked
   */
  map<T, R>(fn: UserFunction<T, R>, iterdata: Items<T>, options?: CallOptions): Promise<ResponseFuture<Awaited<R>>[]> {
    return this.startJob("M", "map", fn, iterdata, options) as Promise<ResponseFuture<Awaited<R>>[]>;
  }

  /**
   * Map, then one reducer over all map results (in input order). By default the reducer starts
   * right away and waits for the map results remotely; `reducerWaitLocal` waits on the client first.
   * @returns the map futures followed by the reducer's future; `getResult()` gives the reducer's value
   */
  mapReduce<T, R, S>(
    mapFn: UserFunction<T, R>,
    iterdata: Items<T>,
    reduceFn: UserFunction<Awaited<R>[], S>,
    options?: MapReduceOptions,
  ): Promise<ResponseFuture[]> {
    let opts: MapReduceOptions;
    try {
      opts = validateCallOptions("mapReduce", options, true);
      this.core.assertOpen();
    } catch (err) {
      return Promise.reject(asError(err));
    }
    const mapJobId = this.core.nextJobId("M");
    const reduceJobId = this.core.nextJobId("R");
    const run = async (): Promise<ResponseFuture[]> => {
      if (opts.reducerOnePerObject === true && !isObjectsInput(iterdata)) {
        throw new TswrenError(ErrorCodes.BAD_OPTION, "mapReduce: reducerOnePerObject applies only to objects(...) input");
      }
      const reducer = await captureFunction(reduceFn, { ...(opts.capture ? { capture: opts.capture } : {}), what: "reducer" });
      const { futures: mapFutures, parts } = await this.submit(mapJobId, "mapReduce", mapFn, iterdata, opts, false);
      if (opts.reducerWaitLocal === true) await waitFutures(mapFutures);
      const calls = reduceCalls({
        mapJobId,
        mapCallIds: mapFutures.map((f) => f.callId),
        parts,
        onePerObject: opts.reducerOnePerObject === true,
        maxAttempts: (opts.retries ?? this.core.config.tswren.retries) + 1,
        waitRemote: opts.reducerWaitLocal !== true,
      });
      const reduceFutures = await this.core.submitJob(reduceJobId, { ...this.limits(opts), kind: "R", captured: reducer, calls, blob: null, producesOutput: true, inputKind: "value" });
      return [...mapFutures, ...reduceFutures];
    };
    return this.track("R", "mapReduce", run());
  }

  private limits(opts: CallOptions): { timeoutMs: number; memoryMb: number; retries: number; extraEnv: Record<string, string> } {
    const section = this.core.computeLimits();
    const timeoutS = opts.timeout ?? section.runtime_timeout;
    return {
      timeoutMs: Math.round(timeoutS * 1000),
      memoryMb: opts.runtimeMemory ?? section.runtime_memory,
      retries: opts.retries ?? this.core.config.tswren.retries,
      extraEnv: opts.extraEnv ?? {},
    };
  }

  private startJob<T, R>(kind: JobKind, what: string, fn: UserFunction<T, R>, iterdata: Items<T>, options: CallOptions | undefined): Promise<ResponseFuture[]> {
    try {
      const opts = validateCallOptions(what, options);
      this.core.assertOpen();
      const jobId = this.core.nextJobId(kind);
      return this.track(kind, what, this.submit(jobId, what, fn, iterdata, opts, true).then((s) => s.futures));
    } catch (err) {
      return Promise.reject(asError(err));
    }
  }

  private track(kind: JobKind, what: string, futures: Promise<ResponseFuture[]>): Promise<ResponseFuture[]> {
    this.core.assertOpen();
    futures.catch(() => undefined);
    this.core.submissions.push({ kind, futures });
    return cancellableSubmission(what, futures, cancelSignal(), this.cancelCalls);
  }

  private readonly cancelCalls = (futures: readonly ResponseFuture[], reason: string): void => {
    this.core.cancelCalls(futures, reason);
  };

  private async submit<T, R>(
    jobId: string,
    what: string,
    fn: UserFunction<T, R>,
    iterdata: Items<T>,
    opts: CallOptions,
    producesOutput: boolean,
  ): Promise<{ futures: ResponseFuture[]; parts: PartSpec[] | null }> {
    if (typeof fn !== "function") throw new TswrenError(ErrorCodes.BAD_INPUT, `${what}: the first argument must be a function; got ${typeof fn}`);
    const env = { storage: async () => (await this.core.backends()).storage, localFiles: this.core.config.tswren.backend === "localhost" };
    const job = await resolveItems(what, iterdata as Iterdata, opts, env);
    const captured = await captureFunction(fn, { ...(opts.capture ? { capture: opts.capture } : {}), what: `${what} function` });
    const { calls, blob } = prepareInputs(job.items);
    const futures = await this.core.submitJob(jobId, {
      ...this.limits(opts),
      kind: jobId[0] as JobKind,
      captured,
      calls,
      blob,
      producesOutput,
      inputKind: job.inputKind,
      ...(opts.remoteInvoker !== undefined ? { remoteInvoker: opts.remoteInvoker } : {}),
    });
    return { futures, parts: job.inputKind === "part" ? job.items : null };
  }

  /**
   * Wait until futures end (all, any, a percentage) or `timeout` seconds pass. When `signal`
   * aborts (or, in the tswren kernel, the cell is interrupted), the calls waited on that have not
   * ended are cancelled and the wait rejects.
   * @returns `[done, notDone]`
   * @throws TswrenError `TSWREN_CANCELLED` when cancelled
   */
  async wait<R>(futures?: readonly ResponseFuture<R>[], options: WaitOptions = {}): Promise<[ResponseFuture<R>[], ResponseFuture<R>[]]> {
    const signal = cancelSignal(options.signal);
    const cancel = (): void => { if (futures) this.cancelCalls(futures, "wait was interrupted"); else void this.cancel(); };
    const list = futures ?? ((await cancellableWait("wait", signal, cancel, () => this.pendingFutures())) as ResponseFuture<R>[]);
    const progress = progressFor(list);
    try {
      return await cancellableWait("wait", signal, cancel, () => waitFutures(list, { ...options, onProgress: () => { progress.update(); options.onProgress?.(); } }));
    } finally {
      progress.stop();
    }
  }

  /**
   * Results of futures in input order; with no futures, every result not yet read, across all
   * jobs submitted so far, in submission order.
   * @throws RemoteFunctionError for the first failed call unless `throwExcept: false` (then `null`)
   * @throws TswrenError `TSWREN_WAIT_TIMEOUT` when `timeout` seconds pass first
   * @throws TswrenError `TSWREN_CANCELLED` when `signal` aborts (or the notebook cell is
   *   interrupted) first: the calls waited on that have not ended are cancelled
   */
  async getResult(futures?: ResponseFuture | readonly ResponseFuture[], options: GetResultOptions = {}): Promise<unknown> {
    const signal = cancelSignal(options.signal);
    const opts: GetResultOptions = { ...options, ...(signal !== undefined ? { signal } : {}) };
    const list = futures instanceof ResponseFuture ? [futures] : futures;
    // Waiting on every pending result cancels every call of this executor that has not ended.
    const cancel = (): void => { if (list) this.cancelCalls(list, "getResult was interrupted"); else void this.cancel(); };
    const run = <T>(wait: () => Promise<T>): Promise<T> => cancellableWait("getResult", signal, cancel, wait);
    if (futures instanceof ResponseFuture) return (await run(() => collectResults([futures], opts)))[0];
    if (futures !== undefined) return run(() => collectResults(futures.filter((f) => f.producesOutput), opts, futures));
    const results = await run(async () => {
      const unread = (await this.pendingFutures()).filter((f) => !f.read);
      // The progress display also covers unread map calls of a mapReduce that are still running.
      return collectResults(unread.filter((f) => f.producesOutput), opts, unread.filter((f) => f.producesOutput || !f.done));
    });
    const last = this.core.submissions.at(-1)?.kind;
    return results.length === 1 && last !== "M" ? results[0] : results;
  }

  /**
   * Execution plots of calls (with no futures: every call submitted so far): a timeline and a
   * concurrency chart, shown inline in a notebook and written as SVG files.
   * @example
   * await fx.plot(futures, { dir: "plots", name: "run1" }); // plots/run1_timeline.svg, plots/run1_histogram.svg
   * @throws TswrenError `TSWREN_BAD_INPUT` / `TSWREN_BAD_OPTION`
   */
  async plot(futures?: readonly ResponseFuture[], options?: PlotOptions): Promise<PlotResult> {
    return plotFutures(futures ?? (await this.pendingFutures()), options);
  }

  /**
   * Cancel calls that have not ended: calls not started are dropped, running local calls are
   * stopped, and their futures end as `cancelled` (error `TSWREN_CANCELLED`). With no futures,
   * every call of this executor that has not ended. Cancelled calls count as read: a later
   * `getResult()` without futures skips them. The executor stays usable.
   * @example
   * const futures = await fx.map(slow, items);
   * await fx.cancel(futures);
   */
  async cancel(futures?: readonly ResponseFuture[]): Promise<void> {
    if (futures !== undefined) {
      this.core.cancelCalls(futures, "cancelled by fx.cancel()");
      return;
    }
    // Jobs still being submitted are cancelled as soon as their calls exist.
    await Promise.all(this.core.submissions.map(async (s) => {
      const settled = await Promise.allSettled([s.futures]);
      if (settled[0].status === "fulfilled") this.core.cancelCalls(settled[0].value, "cancelled by fx.cancel()");
    }));
  }

  private async pendingFutures(): Promise<ResponseFuture[]> {
    const all: ResponseFuture[] = [];
    for (const s of this.core.submissions) all.push(...(await s.futures));
    return all;
  }

  /** Delete every storage key this executor wrote (function bundles, inputs, statuses, outputs). */
  async clean(): Promise<void> {
    await this.core.clean();
  }

  /** Cancel calls that have not run, stop workers this executor uses, and clean up when configured. */
  close(): Promise<void> {
    return this.core.close();
  }

  /** `await using fx = functionExecutor()` closes the executor at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Check that `value` can be sent, for callers that build inputs themselves. */
export function assertSerializable(value: unknown, path = "input"): void {
  serializeValue(value, path);
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
