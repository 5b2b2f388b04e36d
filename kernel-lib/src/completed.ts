/**
 * `fx.results(futures)`: results in completion order, as an async iterator. Each step yields one
 * ended call, `{ index, ok: true, value }` or `{ index, ok: false, error }`, `index` being the
 * future's position in the list given. Values are taken one at a time as the loop asks for them
 * (backpressure: nothing is read ahead of the loop). `break` (or `return`) stops the iteration
 * cleanly: listeners are removed, the progress display ends, the calls not yet yielded keep
 * running and stay unread. When the signal aborts (or the notebook cell is interrupted) the calls
 * not ended are cancelled and the loop throws `TSWREN_CANCELLED`.
 */
import { cancelledError } from "./cancel.js";
import { asError } from "./errors.js";
import type { ResponseFuture } from "./future.js";
import { progressFor } from "./progress/progress.js";

/** One ended call, yielded by `fx.results()`. */
export type CompletedResult<R> =
  | { readonly index: number; readonly future: ResponseFuture<R>; readonly ok: true; readonly value: R }
  | { readonly index: number; readonly future: ResponseFuture<R>; readonly ok: false; readonly error: Error };

/** What the iterator needs from the executor. */
export interface CompletedHooks {
  /** Cancel the calls of `futures` that have not ended (an abort). */
  cancel: (futures: readonly ResponseFuture[]) => void;
  /** The loop ended (finished, broke or threw) having yielded `futures`: they count as consumed. */
  consumed: (futures: readonly ResponseFuture[]) => void;
}

/** A queue of indexes of ended futures with one waiting reader. */
class EndedQueue {
  private readonly ended: number[] = [];
  private wake: (() => void) | null = null;

  push(index: number): void {
    this.ended.push(index);
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Wake the reader without an index (an abort). */
  interrupt(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  shift(): number | undefined {
    return this.ended.shift();
  }

  next(): Promise<void> {
    return new Promise((resolve) => { this.wake = resolve; });
  }
}

async function settledEntry<R>(futures: readonly ResponseFuture<R>[], index: number): Promise<CompletedResult<R>> {
  const future = futures[index];
  try {
    return { index, future, ok: true, value: await future.result() };
  } catch (err) {
    return { index, future, ok: false, error: asError(err) };
  }
}

/**
 * Yield each future's outcome as its call ends.
 * @param futures - the futures to follow
 * @param hooks - how to cancel and mark consumed
 * @param signal - aborts the loop (cancels calls not ended; throws `TSWREN_CANCELLED`)
 */
export async function* completedResults<R>(futures: readonly ResponseFuture<R>[], hooks: CompletedHooks, signal?: AbortSignal): AsyncGenerator<CompletedResult<R>, void, undefined> {
  const queue = new EndedQueue();
  const callbacks = futures.map((_f, i) => (): void => { queue.push(i); });
  const progress = progressFor(futures);
  const onAbort = (): void => {
    hooks.cancel(futures);
    queue.interrupt();
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  futures.forEach((f, i) => { f.onSettled(callbacks[i]); });
  const yieldedFutures: ResponseFuture<R>[] = [];
  try {
    for (let yielded = 0; yielded < futures.length; yielded++) {
      let index = queue.shift();
      while (index === undefined) {
        if (signal?.aborted === true) throw cancelledError("results", signal);
        await queue.next();
        progress.update();
        index = queue.shift();
      }
      if (signal?.aborted === true) throw cancelledError("results", signal);
      const entry = await settledEntry(futures, index);
      entry.future.read = true;
      yieldedFutures.push(entry.future);
      yield entry;
    }
  } finally {
    signal?.removeEventListener("abort", onAbort);
    futures.forEach((f, i) => { f.offSettled(callbacks[i]); });
    progress.stop();
    hooks.consumed(yieldedFutures);
  }
}
