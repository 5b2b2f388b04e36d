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

/** Run `fn` with `process.exit` replaced by a throw of {@link ProcessExitRequested}. */
export async function withExitGuard<T>(fn: () => T | Promise<T>): Promise<T> {
  // The original function object itself is put back afterwards, so it is kept unbound.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const realExit = process.exit;
  process.exit = ((code?: number | string | null): never => {
    exitRequested = true;
    throw new ProcessExitRequested(Number(code ?? 0));
  });
  try {
    return await fn();
  } finally {
    process.exit = realExit;
  }
}
