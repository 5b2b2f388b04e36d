/**
 * `wait`: block until enough futures ended (all, any, a percentage) or a timeout passed, without
 * polling: each future signals when it settles.
 */
import { ErrorCodes, TswrenError } from "./errors.js";
import type { ResponseFuture } from "./future.js";

/** When `wait` returns: all ended, any ended, right away, or a percentage (0-100) ended. */
export type ReturnWhen = "ALL_COMPLETED" | "ANY_COMPLETED" | "ALWAYS" | number;

/** Options of `wait`. */
export interface WaitOptions {
  /** Condition to return on (default `ALL_COMPLETED`). */
  returnWhen?: ReturnWhen;
  /** Seconds to wait at most; then `wait` returns what is done so far. */
  timeout?: number;
  /**
   * Cancels the wait: `fx.wait` then cancels the calls it waits on that have not ended and
   * rejects with `TSWREN_CANCELLED` (the internal `waitFutures` just returns early).
   */
  signal?: AbortSignal;
  /** Called whenever a future ends (progress display). */
  onProgress?: () => void;
}

/** Number of ended futures needed to satisfy `returnWhen` for `total` futures. */
export function requiredDone(returnWhen: ReturnWhen, total: number): number {
  switch (returnWhen) {
    case "ALL_COMPLETED":
      return total;
    case "ANY_COMPLETED":
      return Math.min(1, total);
    case "ALWAYS":
      return 0;
    default:
      if (typeof returnWhen !== "number" || !Number.isFinite(returnWhen) || returnWhen < 0 || returnWhen > 100) {
        throw new TswrenError(
          ErrorCodes.BAD_OPTION,
          `returnWhen must be "ALL_COMPLETED", "ANY_COMPLETED", "ALWAYS" or a percentage from 0 to 100; got ${JSON.stringify(returnWhen)}`,
        );
      }
      return Math.ceil((returnWhen / 100) * total);
  }
}

/** Split futures into [done, notDone], keeping their order. */
export function partition<R>(futures: readonly ResponseFuture<R>[]): [ResponseFuture<R>[], ResponseFuture<R>[]] {
  const done: ResponseFuture<R>[] = [];
  const notDone: ResponseFuture<R>[] = [];
  for (const f of futures) (f.done ? done : notDone).push(f);
  return [done, notDone];
}

/** The longest delay a Node timer holds: 2^31-1 ms, about 24.8 days (longer ones fire after 1 ms). */
export const MAX_TIMER_S = Math.floor((2 ** 31 - 1) / 1000);

/**
 * Check a `timeout` in seconds.
 * @throws TswrenError `TSWREN_BAD_OPTION` naming the option and the maximum
 */
export function checkTimeoutS(name: string, timeout: unknown): asserts timeout is number | undefined {
  if (timeout === undefined) return;
  if (typeof timeout !== "number" || !(timeout >= 0)) {
    throw new TswrenError(ErrorCodes.BAD_OPTION, `${name} must be a number of seconds >= 0; got ${JSON.stringify(timeout)}`);
  }
  if (timeout > MAX_TIMER_S) {
    throw new TswrenError(ErrorCodes.BAD_OPTION, `${name} ${timeout} s is above the maximum of ${MAX_TIMER_S} s (Node timers hold at most 2^31-1 ms); use a smaller value`);
  }
}

/**
 * Wait for futures. Every callback it registers on the futures is removed when it returns, so
 * waiting in a loop (`ANY_COMPLETED`) keeps memory flat.
 * @returns `[done, notDone]` when the condition holds, the timeout passed or the signal aborted
 * @throws TswrenError `TSWREN_BAD_OPTION` for a bad `returnWhen` or `timeout`
 */
export async function waitFutures<R>(
  futures: readonly ResponseFuture<R>[],
  options: WaitOptions = {},
): Promise<[ResponseFuture<R>[], ResponseFuture<R>[]]> {
  const needed = requiredDone(options.returnWhen ?? "ALL_COMPLETED", futures.length);
  const timeout = options.timeout;
  checkTimeoutS("timeout", timeout);
  let doneCount = futures.filter((f) => f.done).length;
  if (doneCount >= needed || options.signal?.aborted) return partition(futures);
  const registered: ResponseFuture<R>[] = [];
  const onSettled = (): void => {
    doneCount++;
    options.onProgress?.();
    if (doneCount >= needed) end();
  };
  let end: () => void = () => undefined;
  await new Promise<void>((resolve) => {
    let finished = false;
    end = (): void => {
      if (finished) return;
      finished = true;
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener("abort", end);
      for (const f of registered) if (!f.done) f.offSettled(onSettled);
      resolve();
    };
    const timer = timeout !== undefined ? setTimeout(end, timeout * 1000) : undefined;
    options.signal?.addEventListener("abort", end, { once: true });
    for (const f of futures) {
      if (f.done) continue;
      registered.push(f);
      f.onSettled(onSettled);
    }
  });
  return partition(futures);
}
