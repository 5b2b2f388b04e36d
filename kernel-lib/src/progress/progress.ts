/**
 * Progress display while waiting: a terminal bar when stdout is a TTY, nothing otherwise. The
 * notebook display plugs in here through {@link setProgressFactory}.
 */
import type { ResponseFuture } from "../future.js";
import { TerminalProgress } from "./terminal.js";

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
  done: number;
  failed: number;
  running: number;
}

/** Count futures by state. */
export function countFutures(futures: readonly ResponseFuture[]): ProgressCounts {
  let done = 0;
  let failed = 0;
  let running = 0;
  for (const f of futures) {
    if (f.status === "success") done++;
    else if (f.status === "error" || f.status === "cancelled") failed++;
    else if (f.status === "running") running++;
  }
  return { total: futures.length, done, failed, running };
}

/** The earliest job creation time (`hostJobCreateMs`) among futures, or undefined when none is set. */
export function jobStartMs(futures: Iterable<ResponseFuture>): number | undefined {
  let start = Number.POSITIVE_INFINITY;
  for (const f of futures) {
    const ms = f.stat("hostJobCreateMs");
    if (ms !== undefined && ms > 0 && ms < start) start = ms;
  }
  return Number.isFinite(start) ? start : undefined;
}

type Factory = (futures: readonly ResponseFuture[]) => ProgressDisplay;

const quiet: ProgressDisplay = { update: () => undefined, stop: () => undefined };

/** The default display: a terminal bar when stdout is a TTY and some futures are still running. */
export function terminalProgressFor(futures: readonly ResponseFuture[]): ProgressDisplay {
  return process.stdout.isTTY && futures.some((f) => !f.done) ? new TerminalProgress(futures) : quiet;
}

let factory: Factory = terminalProgressFor;

/** A progress display for waiting on `futures`. */
export function progressFor(futures: readonly ResponseFuture[]): ProgressDisplay {
  return factory(futures);
}

/** Replace how progress displays are made (the notebook integration does this). */
export function setProgressFactory(next: Factory): void {
  factory = next;
}
