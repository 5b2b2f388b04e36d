/**
 * How the `tswren` kernel prints a cell's last expression (tslab calls its console's `log` with
 * the value):
 * - a value whose `util.inspect` is empty prints nothing, not an empty stdout line (the results
 *   of `fx.plot(...)` and `showVegaLite(...)` once their charts are shown), whatever follows the
 *   expression (a `;`, empty lines, comments);
 * - a Promise (`fx.plot(futures)` without `await`) is shown when it settles, as if awaited: its
 *   value (nothing when empty, `undefined` or `null`) or its rejection, as a `text/plain` output
 *   of the cell that made it, instead of `Promise { <pending> }` with the cell's internal async
 *   context attached. Later stdout would go to whichever cell runs then, so it is a display.
 */
import { inspect } from "node:util";

/** Where the value is printed. */
export interface ValueSink {
  /** Print now, on the running cell's stdout. */
  log(text: string): void;
  /** Show later text as a `text/plain` output of the cell the calling code belongs to. */
  show(text: string): void;
}

function textOf(value: unknown): string {
  return typeof value === "string" ? value : inspect(value);
}

/**
 * Print what tslab's executor passes to `console.log` (the last expression: one argument).
 * @param args - tslab's `console.log` arguments
 * @param sink - the printing functions
 */
export function printLastValue(args: unknown[], sink: ValueSink): void {
  if (args.length !== 1) {
    sink.log(args.map(textOf).join(" "));
    return;
  }
  const [value] = args;
  if (!(value instanceof Promise)) {
    const text = textOf(value);
    if (text !== "") sink.log(text);
    return;
  }
  value.then(
    (resolved: unknown) => {
      const text = resolved === undefined || resolved === null ? "" : textOf(resolved);
      if (text !== "") sink.show(text);
    },
    (err: unknown) => { sink.show(`Uncaught (in promise) ${textOf(err)}`); },
  );
}
