/**
 * Turns `process.exit()` inside a user function into an error of that call, so one call's exit
 * ends that call (with a clear error) instead of silently killing the worker's other work.
 */

/** Thrown in place of exiting when a user function calls `process.exit`. */
export class ProcessExitRequested extends Error {
  readonly exitCode: number;
  constructor(exitCode: number) {
    super(`the function called process.exit(${exitCode}); a function should return or throw instead`);
    this.name = "ProcessExitRequested";
    this.exitCode = exitCode;
  }
}

let exitRequested = false;

/** True once any call asked to exit; the worker then retires after reporting. */
export function workerShouldRetire(): boolean {
  return exitRequested;
}

let guarded = 0;
let realExit: typeof process.exit | null = null;
let permanent = false;
// The process's own exit, kept unbound so that it can be put back as it was.
// eslint-disable-next-line @typescript-eslint/unbound-method
const originalExit: typeof process.exit = process.exit;

function guardedExit(code?: number | string | null): never {
  exitRequested = true;
  throw new ProcessExitRequested(Number(code ?? 0));
}

/**
 * Keep `process.exit` replaced for the life of this process (worker entry points): a call, or a
 * timer a call left behind, can then never end the process; the runtime itself leaves with
 * {@link exitProcess}.
 */
export function guardExitForever(): void {
  permanent = true;
  process.exit = guardedExit;
}

/** End the process for real (the runtime's own exits, past any guard). */
export function exitProcess(code?: number): never {
  return originalExit.call(process, code);
}

/**
 * Run `fn` with `process.exit` replaced by a throw of {@link ProcessExitRequested}. Guards may
 * overlap (calls running at once): the real `process.exit` is back when the last one ends.
 */
export async function withExitGuard<T>(fn: () => T | Promise<T>): Promise<T> {
  if (guarded++ === 0 && !permanent) {
    // The original function object itself is put back afterwards, so it is kept unbound.
    // eslint-disable-next-line @typescript-eslint/unbound-method
    realExit = process.exit;
    process.exit = guardedExit;
  }
  try {
    return await fn();
  } finally {
    if (--guarded === 0 && realExit !== null && !permanent) {
      process.exit = realExit;
      realExit = null;
    }
  }
}
