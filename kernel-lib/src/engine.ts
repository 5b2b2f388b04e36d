/**
 * The link from a public `FunctionExecutor` to its internal engine, kept out of the public
 * object: tests and benchmarks reach the engine through {@link engineOf} (exported from
 * `tswren/internal`), users never see it (not a property, not in completions or `console.dir`).
 */
import type { ExecutorCore } from "./executor-core.js";
import { ErrorCodes, TswrenError } from "./errors.js";

const engines = new WeakMap<object, ExecutorCore>();

/** @internal link an executor to its engine (called once by its constructor) */
export function registerEngine(executor: object, core: ExecutorCore): void {
  engines.set(executor, core);
}

/**
 * The internal engine of an executor (tests, benchmarks, diagnostics).
 * @throws TswrenError `TSWREN_BAD_INPUT` when `executor` is not a `FunctionExecutor` of this copy of tswren
 */
export function engineOf(executor: object): ExecutorCore {
  const core = engines.get(executor);
  if (core === undefined) throw new TswrenError(ErrorCodes.BAD_INPUT, "engineOf: not a FunctionExecutor of this copy of tswren");
  return core;
}
