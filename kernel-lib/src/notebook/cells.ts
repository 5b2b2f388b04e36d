/**
 * What `%%cloud` cells run: submit the cell's function with the kernel's default executor (or the
 * one named with `--fx`), wait for the results and return them. The kernel installs these helpers
 * on `globalThis.tswrenCells`; the rewritten cell calls them (see `magic.ts`).
 */
import { ErrorCodes, TswrenError } from "../errors.js";
import { FunctionExecutor, type UserFunction } from "../executor.js";
import type { CallOptions, MapReduceOptions } from "../job/options.js";

const KEY = Symbol.for("tswren.notebookExecutor");

/**
 * The notebook's default executor, created on first use from the config file (one per process,
 * shared by every copy of the library loaded in it). `%%cloud` cells use it unless they name
 * another with `--fx`; close it with `await notebookExecutor().close()` or let the kernel do it.
 * @example
 * import { notebookExecutor } from "tswren";
 * const fx = notebookExecutor();   // the executor %%cloud cells ran on
 * fx.executorId;
 */
export function notebookExecutor(): FunctionExecutor {
  const slot = globalThis as unknown as Record<symbol, FunctionExecutor | undefined>;
  const current = slot[KEY];
  if (current !== undefined && !current.closed) return current;
  const created = new FunctionExecutor();
  slot[KEY] = created;
  return created;
}

/** Close the default executor if it was created (the kernel calls this on shutdown). */
export async function closeNotebookExecutor(): Promise<void> {
  const slot = globalThis as unknown as Record<symbol, FunctionExecutor | undefined>;
  const current = slot[KEY];
  slot[KEY] = undefined;
  await current?.close();
}

/** What a cell needs of an executor (an `--fx` executor may come from another copy of tswren). */
type CellExecutor = Pick<FunctionExecutor, "map" | "callAsync" | "mapReduce" | "getResult">;

/** The executor a cell asked for: `--fx` (any `FunctionExecutor`) or the default one. */
function executorOf(fx: unknown): CellExecutor {
  if (fx === undefined || fx === null) return notebookExecutor();
  const candidate = fx as Partial<CellExecutor>;
  if (typeof candidate.map !== "function" || typeof candidate.getResult !== "function") {
    throw new TswrenError(ErrorCodes.BAD_INPUT, `%%cloud --fx must name a FunctionExecutor (e.g. \`const fx = functionExecutor()\` in an earlier cell); got ${typeof fx}`);
  }
  return candidate as CellExecutor;
}

/** The helpers `%%cloud` cells call (argument order: the function last, as the cell's body). */
export const cellHelpers = {
  /** `%%cloud map <iterdata>`: one call per item; the results in input order. */
  async map(items: unknown, options: CallOptions, fx: unknown, fn: UserFunction<unknown, unknown>): Promise<unknown[]> {
    const ex = executorOf(fx);
    const futures = await ex.map(fn, items as Iterable<unknown>, options);
    return ex.getResult(futures);
  },
  /** `%%cloud call_async <data>`: one call; its result. */
  async callAsync(data: unknown, options: CallOptions, fx: unknown, fn: UserFunction<unknown, unknown>): Promise<unknown> {
    const ex = executorOf(fx);
    const [future] = await ex.callAsync(fn, data, options);
    return ex.getResult(future);
  },
  /** `%%cloud map_reduce <iterdata> <reducer>`: the reducer's result (a list with one reducer per object). */
  async mapReduce(items: unknown, reducer: UserFunction<unknown[], unknown>, options: MapReduceOptions, fx: unknown, fn: UserFunction<unknown, unknown>): Promise<unknown> {
    const ex = executorOf(fx);
    const futures = await ex.mapReduce(fn, items as Iterable<unknown>, reducer, options);
    const results = (await ex.getResult(futures)) as unknown[];
    return results.length === 1 ? results[0] : results;
  },
};
