/** `getResult`: wait for futures, then their values in order (errors raised or as `null`). */
import { ErrorCodes, TswrenError } from "./errors.js";
import type { ResponseFuture } from "./future.js";
import { progressFor } from "./progress/progress.js";
import { waitFutures } from "./wait.js";

/** Options of `getResult`. */
export interface GetResultOptions {
  /** Raise the first failed call's error (default true); false gives `null` for failed calls. */
  throwExcept?: boolean;
  /** Seconds to wait at most. */
  timeout?: number;
  /** Cancels the wait and the calls waited on that have not ended (`TSWREN_CANCELLED`). */
  signal?: AbortSignal;
}

/**
 * Wait for every future, then return their results in order.
 * @param progressOver - the futures the progress display shows (default `futures`; `getResult`
 *   adds the still-running map calls of a mapReduce whose reducer it waits on)
 * @throws RemoteFunctionError of the first failed call (in input order) when `throwExcept`
 * @throws TswrenError `TSWREN_WAIT_TIMEOUT` / `TSWREN_CANCELLED`
 */
export async function collectResults(
  futures: readonly ResponseFuture[],
  options: GetResultOptions = {},
  progressOver: readonly ResponseFuture[] = futures,
): Promise<unknown[]> {
  const progress = progressFor(progressOver);
  let notDone: ResponseFuture[];
  try {
    [, notDone] = await waitFutures(futures, {
      ...(options.timeout !== undefined ? { timeout: options.timeout } : {}),
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
      onProgress: () => { progress.update(); },
    });
  } finally {
    progress.stop();
  }
  if (notDone.length > 0) {
    if (options.signal?.aborted) throw new TswrenError(ErrorCodes.CANCELLED, `getResult was aborted with ${notDone.length} of ${futures.length} calls still running`);
    const first = notDone[0];
    throw new TswrenError(
      ErrorCodes.WAIT_TIMEOUT,
      `getResult timed out after ${options.timeout} s with ${notDone.length} of ${futures.length} calls not done (first: ${first.executorId}/${first.jobId}/${first.callId}); raise \`timeout\` or call getResult again`,
    );
  }
  const throwExcept = options.throwExcept ?? true;
  if (throwExcept) {
    const failed = futures.find((f) => f.error !== undefined);
    if (failed?.error) throw failed.error;
  }
  const values: unknown[] = [];
  for (const f of futures) values.push(f.error ? null : await f.result());
  for (const f of futures) f.read = true;
  return values;
}
