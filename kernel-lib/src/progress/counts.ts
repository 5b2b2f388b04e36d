/**
 * What every progress display reads from futures: the counts by state and the job's start. Kept
 * apart from progress.ts (which picks the display) so displays import it without a cycle.
 */
import type { ResponseFuture } from "../future.js";

/** A live progress display for one wait. */
export interface ProgressDisplay {
  /** Re-read the futures' states (cheap; implementations throttle). */
  update(): void;
  /** Final update and release the display. */
  stop(): void;
}

/** Counts shown by progress displays. */
export interface ProgressCounts {
  total: number;
  /** Calls that succeeded. */
  done: number;
  /** Calls that failed (cancelled calls are not failures: see `cancelled`). */
  failed: number;
  /** Calls that were cancelled. */
  cancelled: number;
  running: number;
}

/**
 * Count futures by state.
 * @param futures - the calls
 * @returns how many succeeded, failed, were cancelled and run now
 */
export function countFutures(futures: readonly ResponseFuture[]): ProgressCounts {
  let done = 0;
  let failed = 0;
  let cancelled = 0;
  let running = 0;
  for (const f of futures) {
    if (f.status === "success") done++;
    else if (f.status === "error") failed++;
    else if (f.status === "cancelled") cancelled++;
    else if (f.status === "running") running++;
  }
  return { total: futures.length, done, failed, cancelled, running };
}

/**
 * The earliest job creation time (`hostJobCreateMs`) among futures.
 * @returns epoch ms, or undefined when none is set
 */
export function jobStartMs(futures: Iterable<ResponseFuture>): number | undefined {
  let start = Number.POSITIVE_INFINITY;
  for (const f of futures) {
    const ms = f.stat("hostJobCreateMs");
    if (ms !== undefined && ms > 0 && ms < start) start = ms;
  }
  return Number.isFinite(start) ? start : undefined;
}
