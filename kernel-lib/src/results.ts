/** `getResult`: wait for futures, then their values in order (errors raised or as `null`). */
import { ErrorCodes, TswrenError } from "./errors.js";
import type { ResponseFuture } from "./future.js";
import { progressFor } from "./progress/progress.js";
import { waitFutures, type WaitOptions } from "./wait.js";

/** Options of `getResult`. */
export interface GetResultOptions {
  /** Raise the first failed call's error (default true); false gives `null` for failed calls. */
  throwExcept?: boolean;
  /** Seconds to wait at most (`TSWREN_WAIT_TIMEOUT` when they pass first). */
  timeout?: number;
  /** Cancels the wait and the calls waited on that have not ended (`TSWREN_CANCELLED`). */
  signal?: AbortSignal;
}

/** What bounds a wait overall: the executor's `tswren.execution_timeout`, in seconds. */
export interface WaitBound {
  executionTimeoutS: number;
}

/**
 * The timeout a wait uses: the caller's `timeout`, but never longer than `execution_timeout`.
 * @returns the seconds to wait and whether `execution_timeout` is what ends it
 */
export function boundedTimeout(timeout: number | undefined, bound: WaitBound): { timeoutS: number; byExecutionTimeout: boolean } {
  if (timeout !== undefined && timeout <= bound.executionTimeoutS) return { timeoutS: timeout, byExecutionTimeout: false };
  return { timeoutS: bound.executionTimeoutS, byExecutionTimeout: true };
}

/** The error of a wait that `execution_timeout` ended. */
export function executionTimeoutError(what: string, bound: WaitBound, notDone: readonly ResponseFuture[], total: number): TswrenError {
  const first = notDone[0];
  const where = first === undefined ? "" : ` (first: ${first.executorId}/${first.jobId}/${first.callId})`;
  return new TswrenError(
    ErrorCodes.EXECUTION_TIMEOUT,
    `${what} waited longer than execution_timeout (${bound.executionTimeoutS} s) with ${notDone.length} of ${total} calls not done${where}; ` +
      "the calls keep running: call it again to keep waiting, or raise tswren.execution_timeout in the config",
  );
}

/**
 * Wait for every future, then return their results in order. Once every future ended, all of
 * `consumes` (default `futures`) count as read, also when an error is thrown: a failure is
 * reported once, and the next `getResult()` sees only newer calls.
 * @param progressOver - the futures the progress display shows (default `futures`; `getResult`
 *   adds the still-running map calls of a mapReduce whose reducer it waits on)
 * @throws RemoteFunctionError of the first failed call (in input order) when `throwExcept`
 * @throws TswrenError `TSWREN_WAIT_TIMEOUT` / `TSWREN_EXECUTION_TIMEOUT` / `TSWREN_CANCELLED`
 */
export async function collectResults(
  futures: readonly ResponseFuture[],
  options: GetResultOptions & Partial<WaitBound> = {},
  progressOver: readonly ResponseFuture[] = futures,
  consumes: readonly ResponseFuture[] = futures,
): Promise<unknown[]> {
  const bound = options.executionTimeoutS !== undefined ? boundedTimeout(options.timeout, { executionTimeoutS: options.executionTimeoutS }) : null;
  const timeoutS = bound?.timeoutS ?? options.timeout;
  const notDone = await waitWithProgress(futures, progressOver, {
    ...(timeoutS !== undefined ? { timeout: timeoutS } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  });
  if (notDone.length > 0) {
    if (options.signal?.aborted) throw new TswrenError(ErrorCodes.CANCELLED, `getResult was aborted with ${notDone.length} of ${futures.length} calls still running`);
    if (bound?.byExecutionTimeout === true && options.executionTimeoutS !== undefined) {
      throw executionTimeoutError("getResult", { executionTimeoutS: options.executionTimeoutS }, notDone, futures.length);
    }
    const first = notDone[0];
    throw new TswrenError(
      ErrorCodes.WAIT_TIMEOUT,
      `getResult timed out after ${options.timeout} s with ${notDone.length} of ${futures.length} calls not done (first: ${first?.executorId}/${first?.jobId}/${first?.callId}); raise \`timeout\` or call getResult again`,
    );
  }
  for (const f of consumes) if (f.done) f.read = true;
  if (options.throwExcept ?? true) {
    const failed = futures.find((f) => f.error !== undefined);
    if (failed?.error) throw failed.error;
  }
  const values: unknown[] = [];
  for (const f of futures) values.push(f.error ? null : await f.result());
  return values;
}

async function waitWithProgress(futures: readonly ResponseFuture[], progressOver: readonly ResponseFuture[], options: WaitOptions): Promise<ResponseFuture[]> {
  const progress = progressFor(progressOver);
  try {
    const [, notDone] = await waitFutures(futures, { ...options, onProgress: () => { progress.update(); } });
    return notDone;
  } finally {
    progress.stop();
  }
}
