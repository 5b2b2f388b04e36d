/**
 * `FunctionExecutor`: the public API. Validates at the boundary (options, inputs, the function's
 * captured names) before anything is uploaded or invoked, then delegates to {@link ExecutorCore}.
 */
import { loadConfig, type TswrenConfig } from "./config/index.js";
import { asError, ErrorCodes, TswrenError } from "./errors.js";
import { ExecutorCore } from "./executor-core.js";
import { ResponseFuture } from "./future.js";
import { newExecutorId, type JobKind } from "./ids.js";
import { captureFunction } from "./job/capture/index.js";
import { isObjectsInput } from "./data/objects.js";
import type { PartSpec } from "./data/partitioner.js";
import { resolveItems, type Iterdata } from "./job/items.js";
import { checkCallTimeout, isArgumentList, validateCallOptions, type CallOptions, type MapReduceOptions } from "./job/options.js";
import { reduceCalls } from "./job/reduce.js";
import { checkItemArguments } from "./job/params.js";
import { prepareInputs } from "./job/prepare.js";
import { executorSources, validateExecutorOptions, type ExecutorOptions } from "./executor-options.js";
import { boundedTimeout, collectResults, executionTimeoutError, type GetResultOptions } from "./results.js";
import { Storage } from "./storage/storage.js";
import { checkTimeoutS, requiredDone, waitFutures, type WaitOptions } from "./wait.js";
import { registerEngine } from "./engine.js";
import { callConfig, innerExecutorId } from "./job/call-config.js";
import type { Items, Lenient, MapReduceFutures, UserFunction } from "./executor-types.js";
import { progressFor } from "./progress/progress.js";
import { plotFutures, type PlotOptions, type PlotResult } from "./plot/plot.js";
import { nameJob } from "./progress/job-names.js";
import { rememberJobCode } from "./error-view/job-code.js";
import { cancelSignal, cancellableSubmission, cancellableWait } from "./cancel.js";
import { completedResults, type CompletedResult } from "./completed.js";
import { replayCall, replayRefused } from "./replay.js";
import type { CostReport } from "./cost.js";
import { jobLimits, type JobLimits } from "./job/limits.js";
import { attachJob, type JobRef } from "./jobs/attach.js";
import { storedReplaySource } from "./jobs/replay-stored.js";

export type { MapReduceFutures, UserFunction } from "./executor-types.js";

/**
 * Runs functions over inputs on the configured compute backend.
 * @example
 * await using fx = functionExecutor();
 * await fx.map((x: number) => x + 7, [1, 2, 3, 4]);
 * console.log(await fx.getResult()); // [8, 9, 10, 11]
 */
export class FunctionExecutor {
  // Private: neither a property users see (completions, console.dir) nor reachable but through engineOf().
  readonly #core: ExecutorCore;

  /**
   * @param options - backend, storage, limits and a `config` object that override the config file
   * @throws TswrenError `TSWREN_BAD_OPTION` / `TSWREN_CONFIG_*` for bad options or config
   */
  constructor(options: ExecutorOptions = {}) {
    validateExecutorOptions(options);
    // Inside a call, the executor that invoked it gives the configuration (not the worker's files).
    const inCall = options.config === undefined ? callConfig() : undefined;
    const config = loadConfig({
      ...(options.config !== undefined ? { config: options.config } : {}),
      ...(inCall !== undefined ? { config: inCall, env: {} } : {}),
      ...executorSources(options),
    });
    this.#core = new ExecutorCore(innerExecutorId(config.tswren.backend) ?? newExecutorId(), config);
    registerEngine(this, this.#core);
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#core.closed;
  }

  /** This executor's id, e.g. `9f86d081884c7d65-0`; it prefixes every storage key the executor writes. */
  get executorId(): string {
    return this.#core.executorId;
  }

  /** The loaded configuration (secrets included: print it with `redactConfig`). */
  get config(): TswrenConfig {
    return this.#core.config;
  }

  /** One line for people: where calls run and where data lives. */
  async describe(): Promise<string> {
    const b = await this.#core.backends();
    return `${b.compute.describe()}; storage: ${b.storage.name} bucket ${b.storageRef.bucket}`;
  }

  /** A storage client on this executor's storage backend and bucket. */
  async storage(): Promise<Storage> {
    const b = await this.#core.backends();
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
   * @param options - `extraArgs` as an object is merged into object items; as an array, its
   *   values are passed after the item: `fn(item, ...extraArgs, ctx)`
   * @returns the calls' futures, in input order
   * @throws TswrenError with a code naming the problem, before anything is invoked
   */
  map<T, R>(
    fn: (item: T, ...extraArgsThenCtx: never[]) => R | Promise<R>,
    iterdata: Items<T>,
    options: CallOptions & { extraArgs: readonly unknown[] },
  ): Promise<ResponseFuture<Awaited<R>>[]>;
  map<T, R>(fn: UserFunction<T, R>, iterdata: Items<T>, options?: CallOptions): Promise<ResponseFuture<Awaited<R>>[]>;
  map<T, R>(fn: UserFunction<T, R> | ((item: T, ...extraArgsThenCtx: never[]) => R | Promise<R>), iterdata: Items<T>, options?: CallOptions): Promise<ResponseFuture<Awaited<R>>[]> {
    return this.startJob("M", "map", fn as UserFunction<T, R>, iterdata, options) as Promise<ResponseFuture<Awaited<R>>[]>;
  }

  /**
   * Map, then one reducer over all map results (in input order). By default the reducer starts
   * right away and waits for the map results remotely; `reducerWaitLocal` waits on the client first.
   * @returns the map futures followed by the reducer's future; `getResult()` and
   *   `getResult(futures)` give the reducer's value (with `reducerOnePerObject`, the list of values)
   * @example
   * const futures = await fx.mapReduce((x: number) => x * 2, [1, 2, 3], (rs) => rs.reduce((a, b) => a + b, 0));
   * await fx.getResult(futures); // 12
   */
  mapReduce<T, R, S, O extends MapReduceOptions = MapReduceOptions>(
    mapFn: UserFunction<T, R>,
    iterdata: Items<T>,
    reduceFn: UserFunction<Awaited<R>[], S>,
    options?: O,
  ): Promise<MapReduceFutures<O extends { reducerOnePerObject: true } ? Awaited<S>[] : Awaited<S>>> {
    let opts: MapReduceOptions;
    try {
      opts = validateCallOptions("mapReduce", options, true);
      checkCallTimeout("mapReduce", this.#core.config.tswren.backend, opts.timeout);
      this.#core.assertOpen();
    } catch (err) {
      return Promise.reject(asError(err));
    }
    const [mapJobId, reduceJobId] = this.#core.reserveJobIds(["M", "R"]);
    const onePerObject = opts.reducerOnePerObject === true;
    const run = async (): Promise<ResponseFuture[]> => {
      if (onePerObject && !isObjectsInput(iterdata)) {
        throw new TswrenError(ErrorCodes.BAD_OPTION, "mapReduce: reducerOnePerObject applies only to objects(...) input");
      }
      const reducer = await captureFunction(reduceFn, { ...(opts.capture ? { capture: opts.capture } : {}), what: "reducer" });
      nameJob(this.#core.executorId, reduceJobId, opts.name ?? reduceFn.name);
      rememberJobCode(this.#core.executorId, reduceJobId, reducer.bundleBytes);
      const { futures: mapFutures, parts } = await this.submit(mapJobId, "mapReduce", mapFn, iterdata, opts, false);
      if (opts.reducerWaitLocal === true) await waitFutures(mapFutures);
      const calls = reduceCalls({
        mapJobId,
        mapCallIds: mapFutures.map((f) => f.callId),
        parts,
        onePerObject,
        maxAttempts: (opts.retries ?? this.#core.config.tswren.retries) + 1,
        waitRemote: opts.reducerWaitLocal !== true,
      });
      const reduceFutures = await this.#core.submitJob(reduceJobId, { ...this.limits(opts), kind: "R", captured: reducer, calls, blob: null, producesOutput: true, inputKind: "value", single: !onePerObject });
      return [...mapFutures, ...reduceFutures];
    };
    return this.track([mapJobId, reduceJobId], !onePerObject, "mapReduce", run()) as Promise<MapReduceFutures<never>>;
  }

  private limits(opts: CallOptions): JobLimits {
    return jobLimits(this.#core.computeLimits(), this.#core.config.tswren.retries, opts);
  }

  private startJob<T, R>(kind: JobKind, what: string, fn: UserFunction<T, R>, iterdata: Items<T>, options: CallOptions | undefined): Promise<ResponseFuture[]> {
    try {
      const opts = validateCallOptions(what, options);
      checkCallTimeout(what, this.#core.config.tswren.backend, opts.timeout);
      this.#core.assertOpen();
      const [jobId] = this.#core.reserveJobIds([kind]);
      return this.track([jobId], kind === "A", what, this.submit(jobId, what, fn, iterdata, opts, true).then((s) => s.futures));
    } catch (err) {
      return Promise.reject(asError(err));
    }
  }

  /** Register a submission; a refused one is forgotten (no futures, its job ids given back). */
  private track(jobIds: string[], single: boolean, what: string, futures: Promise<ResponseFuture[]>): Promise<ResponseFuture[]> {
    this.#core.assertOpen();
    this.#core.submissions.add(single, futures);
    futures.catch(() => { this.#core.releaseJobIds(jobIds); });
    return cancellableSubmission(what, futures, cancelSignal(), (f, reason) => { this.#core.cancelCalls(f, reason); });
  }

  private async submit<T, R>(
    jobId: string,
    what: string,
    fn: UserFunction<T, R>,
    iterdata: Items<T>,
    opts: CallOptions,
    producesOutput: boolean,
  ): Promise<{ futures: ResponseFuture[]; parts: PartSpec[] | null }> {
    if (typeof fn !== "function") throw new TswrenError(ErrorCodes.BAD_INPUT, `${what}: the first argument must be a function; got ${typeof fn}`);
    const env = { storage: async () => (await this.#core.backends()).storage, localFiles: this.#core.config.tswren.backend === "localhost", maxCalls: this.#core.config.tswren.max_calls };
    const job = await resolveItems(what, iterdata as Iterdata, opts, env);
    const appendArgs = isArgumentList(opts.extraArgs) ? { appendArgs: opts.extraArgs } : {};
    const keywords = job.inputKind === "value" ? checkItemArguments(what, fn, job.items, appendArgs.appendArgs?.length) : null;
    const captured = await captureFunction(fn, { ...(opts.capture ? { capture: opts.capture } : {}), ...appendArgs, ...(keywords ? { keywordParams: keywords } : {}), what: `${what} function` });
    nameJob(this.#core.executorId, jobId, opts.name ?? fn.name);
    rememberJobCode(this.#core.executorId, jobId, captured.bundleBytes);
    const { calls, blob } = prepareInputs(job.items);
    const futures = await this.#core.submitJob(jobId, {
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
   * Wait until futures end (all, any, a percentage) or `timeout` seconds pass; with no futures,
   * the futures not consumed yet. When `signal` aborts (or, in the tswren kernel, the cell is
   * interrupted), the calls waited on that have not ended are cancelled and the wait rejects.
   * @returns `[done, notDone]`
   * @throws TswrenError `TSWREN_CANCELLED` when cancelled, `TSWREN_EXECUTION_TIMEOUT` after
   *   `tswren.execution_timeout` seconds
   */
  async wait<R>(futures?: readonly ResponseFuture<R>[], options: WaitOptions = {}): Promise<[ResponseFuture<R>[], ResponseFuture<R>[]]> {
    checkTimeoutS("wait: timeout", options.timeout);
    const signal = cancelSignal(options.signal);
    const cancel = (): void => { if (futures) this.#core.cancelCalls(futures, "wait was interrupted"); else void this.cancel(); };
    const list = futures ?? ((await cancellableWait("wait", signal, cancel, () => this.#core.submissions.unread())) as ResponseFuture<R>[]);
    const bound = { executionTimeoutS: this.#core.config.tswren.execution_timeout };
    const { timeoutS, byExecutionTimeout } = boundedTimeout(options.timeout, bound);
    const progress = progressFor(list);
    try {
      const waitOpts = { ...options, timeout: timeoutS, onProgress: () => { progress.update(); options.onProgress?.(); } };
      const [done, notDone] = await cancellableWait("wait", signal, cancel, () => waitFutures(list, waitOpts));
      const satisfied = done.length >= requiredDone(options.returnWhen ?? "ALL_COMPLETED", list.length);
      if (byExecutionTimeout && !satisfied && signal?.aborted !== true) throw executionTimeoutError("wait", bound, notDone, list.length);
      return [done, notDone];
    } finally {
      progress.stop();
    }
  }

  /**
   * Results of futures in input order; with no futures, every result not consumed yet, across
   * all jobs submitted so far, in submission order. A single future gives its value; the futures
   * of a `mapReduce` give the reducer's value. A thrown error consumes the futures waited on.
   * @example
   * const futures = await fx.map((x: number) => x + 7, [1, 2]);
   * const values: number[] = await fx.getResult(futures); // [8, 9]
   * @throws RemoteFunctionError for the first failed call unless `throwExcept: false` (then `null`)
   * @throws TswrenError `TSWREN_WAIT_TIMEOUT` when `timeout` seconds pass first,
   *   `TSWREN_EXECUTION_TIMEOUT` when `tswren.execution_timeout` seconds pass first
   * @throws TswrenError `TSWREN_CANCELLED` when `signal` aborts (or the notebook cell is
   *   interrupted) first: the calls waited on that have not ended are cancelled
   */
  getResult<V>(futures: MapReduceFutures<V>, options: Lenient): Promise<V | null>;
  getResult<V>(futures: MapReduceFutures<V>, options?: GetResultOptions): Promise<V>;
  getResult<R>(future: ResponseFuture<R>, options: Lenient): Promise<R | null>;
  getResult<R>(future: ResponseFuture<R>, options?: GetResultOptions): Promise<R>;
  getResult<R>(futures: readonly ResponseFuture<R>[], options: Lenient): Promise<(R | null)[]>;
  getResult<R>(futures: readonly ResponseFuture<R>[], options?: GetResultOptions): Promise<R[]>;
  getResult(futures?: undefined, options?: GetResultOptions): Promise<unknown>;
  async getResult(futures?: ResponseFuture | readonly ResponseFuture[], options: GetResultOptions = {}): Promise<unknown> {
    checkTimeoutS("getResult: timeout", options.timeout);
    const signal = cancelSignal(options.signal);
    const opts = { ...options, ...(signal !== undefined ? { signal } : {}), executionTimeoutS: this.#core.config.tswren.execution_timeout };
    const list = futures instanceof ResponseFuture ? [futures] : futures;
    // Waiting on every pending result cancels every call of this executor that has not ended.
    const cancel = (): void => { if (list) this.#core.cancelCalls(list, "getResult was interrupted"); else void this.cancel(); };
    const run = <T>(wait: () => Promise<T>): Promise<T> => cancellableWait("getResult", signal, cancel, wait);
    if (futures instanceof ResponseFuture) return (await run(() => collectResults([futures], opts)))[0];
    if (list !== undefined) {
      const outputs = list.filter((f) => f.producesOutput);
      const values = await run(() => collectResults(outputs, opts, list));
      this.#core.submissions.consumed(list);
      return outputs.length === 1 && (outputs[0]?.single ?? false) && outputs.length < list.length ? values[0] : values;
    }
    const unread = await run(() => this.#core.submissions.unread());
    const outputs = unread.filter((f) => f.producesOutput);
    // The progress display also covers unread map calls of a mapReduce that are still running.
    const values = await run(() => collectResults(outputs, opts, unread.filter((f) => f.producesOutput || !f.done), unread));
    this.#core.submissions.consumed(unread);
    return values.length === 1 && this.#core.submissions.lastIsSingle() ? values[0] : values;
  }

  /**
   * Results in completion order: yields `{ index, ok: true, value }` or `{ index, ok: false,
   * error }` (`index`: position in `futures`), nothing read ahead; `break` stops cleanly (other
   * calls run on, unread); `signal` or a cell interrupt cancels the rest (`TSWREN_CANCELLED`).
   * @example
   * for await (const r of fx.results(futures)) console.log(r.index, r.ok ? r.value : r.error.message);
   * @throws TswrenError `TSWREN_BAD_INPUT` when `futures` is not a list of futures (at once)
   */
  results<R>(futures: readonly ResponseFuture<R>[], options: { signal?: AbortSignal } = {}): AsyncGenerator<CompletedResult<R>, void, undefined> {
    if (!Array.isArray(futures) || !futures.every((f) => f instanceof ResponseFuture)) {
      throw new TswrenError(ErrorCodes.BAD_INPUT, "results: give the list of futures that map/callAsync returned, e.g. fx.results(await fx.map(fn, items))");
    }
    return completedResults(futures, { cancel: (fs) => { this.#core.cancelCalls(fs, "the results loop was interrupted"); }, consumed: (fs) => { this.#core.submissions.consumed(fs); } }, cancelSignal(options.signal));
  }

  /**
   * Run a failed call again in this process (same function bundle, input, extra env, a context
   * like the worker's) to debug it: gives the value or throws the call's error with its real
   * stack. Nothing is written and the future is not changed. Failed attached futures work too.
   * @example
   * const [f] = await fx.callAsync(parse, badRow);
   * await fx.getResult(f, { throwExcept: false }); // null: it failed remotely
   * await fx.replay(f); // throws the same error, here, with the full stack
   * @throws TswrenError `TSWREN_BAD_INPUT` for a future that did not fail (running, succeeded,
   *   cancelled); `TSWREN_NO_SUCH_KEY` when the job's data was cleaned since
   */
  async replay<R>(future: ResponseFuture<R>): Promise<R> {
    if (!(future instanceof ResponseFuture)) throw new TswrenError(ErrorCodes.BAD_INPUT, "replay: give one future that map/callAsync returned, e.g. fx.replay(futures[3])");
    const b = await this.#core.backends();
    const src = this.#core.replaySource(future) ?? (future.executorId !== this.executorId && future.status === "error" ? await storedReplaySource(b.storage, b.storageRef, future) : undefined);
    if (src === undefined) throw replayRefused(future, this.executorId);
    return (await replayCall(src, b.storage, src.base.timeoutMs)) as R;
  }

  /**
   * What calls cost (with no futures: every call of this executor): billed duration x memory
   * in GB-seconds, priced with the compute backend's `price_gb_s` / `price_million_requests` /
   * `billing_ms` (list prices by default; 0 for localhost and docker). See docs/cost.md.
   * @example
   * const { usd, gbSeconds } = fx.cost(futures);
   */
  cost(futures?: readonly ResponseFuture[]): CostReport {
    return this.#core.cost(futures ?? this.#core.registeredFutures());
  }

  /**
   * Futures of a job another process (or this kernel before a restart) submitted, found by its
   * record in this executor's storage (`tswren jobs` lists them); they wait, give results and
   * show progress like any other. Localhost and docker calls die with their submitting process.
   * @example
   * const futures = await fx.attach("9f86d081884c7d65-0-M000");
   * await fx.getResult(futures);
   * @throws TswrenError `TSWREN_BAD_INPUT` (not a job reference), `TSWREN_NO_SUCH_JOB`
   */
  async attach<R = unknown>(jobRef: JobRef): Promise<ResponseFuture<R>[]> {
    const { record, futures } = await attachJob(this.#core.config, jobRef);
    this.#core.submissions.add(record.single, Promise.resolve(futures));
    return futures as ResponseFuture<R>[];
  }

  /**
   * Execution plots of calls (with no futures: the calls not consumed yet, else the ones the
   * last `getResult` consumed): a timeline and a concurrency chart, shown inline in a notebook
   * and written as SVG files.
   * @example
   * await fx.plot(futures, { dir: "plots", name: "run1" }); // plots/run1_timeline.svg, plots/run1_histogram.svg
   * @throws TswrenError `TSWREN_BAD_INPUT` / `TSWREN_BAD_OPTION`
   */
  async plot(futures?: readonly ResponseFuture[], options?: PlotOptions): Promise<PlotResult> {
    return plotFutures(futures ?? (await this.#core.submissions.forPlot()), options);
  }

  /**
   * Cancel calls that have not ended: calls not started are dropped, running local calls are
   * stopped, and their futures end as `cancelled` (error `TSWREN_CANCELLED`). With no futures,
   * every call of this executor that has not ended. Cancelled calls count as consumed: a later
   * `getResult()` without futures skips them. The executor stays usable.
   * @example
   * const futures = await fx.map(slow, items);
   * await fx.cancel(futures);
   */
  async cancel(futures?: readonly ResponseFuture[]): Promise<void> {
    if (futures !== undefined) {
      this.#core.cancelCalls(futures, "cancelled by fx.cancel()");
      return;
    }
    // Jobs still being submitted are cancelled as soon as their calls exist.
    await Promise.all(this.#core.submissions.promises().map(async (p) => {
      const settled = await Promise.allSettled([p]);
      if (settled[0].status === "fulfilled") this.#core.cancelCalls(settled[0].value, "cancelled by fx.cancel()");
    }));
  }

  /** Delete every storage key this executor wrote (function bundles, inputs, statuses, outputs). */
  async clean(): Promise<void> {
    await this.#core.clean();
  }

  /** Cancel calls that have not run, stop workers this executor uses, and clean up when configured. */
  close(): Promise<void> {
    return this.#core.close();
  }

  /** `await using fx = functionExecutor()` closes the executor at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

