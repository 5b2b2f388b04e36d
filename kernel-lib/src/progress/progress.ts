/**
 * Progress display while waiting: a terminal bar when stdout is a TTY, nothing otherwise. The
 * notebook display plugs in here through {@link setProgressFactory}.
 */
import type { ResponseFuture } from "../future.js";
import type { ProgressDisplay } from "./counts.js";
import { TerminalProgress } from "./terminal.js";

export { countFutures, jobStartMs, type ProgressCounts, type ProgressDisplay } from "./counts.js";

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
