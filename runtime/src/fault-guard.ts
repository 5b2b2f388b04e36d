/**
 * Keeps one call's faults with that call. Each call runs inside a {@link CallScope} (an
 * `AsyncLocalStorage` context that every timer, callback and promise it starts inherits). The
 * process-wide `uncaughtException` / `unhandledRejection` handlers read the scope of the failing
 * callback:
 *
 * - the call is still running: the call fails with the thrown error (its own message and stack);
 * - the call already returned (a timer or promise it left behind failed later): the error is
 *   logged against that call on stderr and never touches the call running now;
 * - either way the process is no longer clean: {@link workerIsUnclean} turns true, and entry
 *   points replace the worker (retire it) once the call running now has been reported.
 *
 * `process.exit` from a callback a call left behind throws (see `exit-guard.ts`) and so arrives
 * here too.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { ProcessExitRequested } from "./exit-guard.js";
import { writeRealStderr } from "./log-capture.js";

/** Which call a scope belongs to. */
export interface CallIds {
  executorId: string;
  jobId: string;
  callId: string;
}

/** An error that escaped a call's code, as reported by {@link installFaultGuard}. */
export interface FaultReport {
  /** The call whose code raised it, when known. */
  call: CallIds | null;
  /** True when that call had already returned (the error came from something it left behind). */
  late: boolean;
  /** A readable line (or lines) naming the call, what happened and the error's stack. */
  text: string;
}

/** The context a call's code runs in. */
export interface CallScope {
  /** The call's ids, for reports. */
  readonly ids: CallIds;
  /** True once the call's outcome is decided (its status is being written or was sent). */
  ended: boolean;
  /** Settles when a callback of the running call threw or rejected unhandled. */
  readonly fault: Promise<never>;
  /** Fail the running call with `err` (once). */
  failWith(err: unknown): void;
}

const scopes = new AsyncLocalStorage<CallScope>();
let unclean = false;
let installed = false;
const uncleanListeners = new Set<() => void>();

/** A new scope for the call `ids`. */
export function newCallScope(ids: CallIds): CallScope {
  let reject: (err: unknown) => void = () => undefined;
  const fault = new Promise<never>((_, r) => { reject = r; });
  // The race in runInScope listens; a scope that never faults must not warn.
  fault.catch(() => undefined);
  let failed = false;
  return {
    ids,
    ended: false,
    fault,
    failWith(err: unknown): void {
      if (failed) return;
      failed = true;
      reject(err);
    },
  };
}

/**
 * Run `fn` inside `scope`: everything it starts belongs to that call. Resolves or rejects with
 * `fn`'s outcome, or rejects with the first uncaught error of a callback the call started.
 */
export function runInScope<T>(scope: CallScope, fn: () => Promise<T>): Promise<T> {
  return scopes.run(scope, () => Promise.race([fn(), scope.fault]));
}

/** True once an error escaped some call's code in this process (it should be replaced). */
export function workerIsUnclean(): boolean {
  return unclean;
}

/**
 * Be told (once per registration, at most once per process) when the process turns unclean.
 * @returns a function that removes the listener
 */
export function onUnclean(listener: () => void): () => void {
  uncleanListeners.add(listener);
  return () => uncleanListeners.delete(listener);
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return `a non-Error value: ${String(err)}`;
}

function markUnclean(): void {
  if (unclean) return;
  unclean = true;
  for (const listener of [...uncleanListeners]) listener();
}

function label(ids: CallIds): string {
  return `${ids.callId} of job ${ids.executorId}-${ids.jobId}`;
}

function onEscaped(err: unknown, how: string, report: (fault: FaultReport) => void): void {
  const scope = scopes.getStore();
  if (scope !== undefined && !scope.ended) {
    scope.failWith(err);
  } else if (scope !== undefined) {
    const what = err instanceof ProcessExitRequested ? "called process.exit" : `had an ${how}`;
    report({
      call: scope.ids,
      late: true,
      text: `tswren: call ${label(scope.ids)} ${what} after it had returned (from a timer or promise it left ` +
        `behind); no other call is affected and its worker is replaced:\n${describe(err)}\n`,
    });
  } else {
    report({ call: null, late: true, text: `tswren: an ${how} outside any call; this worker is replaced:\n${describe(err)}\n` });
  }
  markUnclean();
}

/**
 * Install the process handlers (once per process) that route uncaught exceptions and unhandled
 * rejections to the call whose code raised them.
 * @param report - told about errors that did not fail a running call (a call's late error, or one
 *   outside any call); by default they are written to the real stderr
 */
export function installFaultGuard(report: (fault: FaultReport) => void = (fault) => { writeRealStderr(fault.text); }): void {
  if (installed) return;
  installed = true;
  process.on("uncaughtException", (err) => { onEscaped(err, "uncaught exception", report); });
  process.on("unhandledRejection", (reason) => { onEscaped(reason, "unhandled promise rejection", report); });
}
