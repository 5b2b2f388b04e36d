/**
 * Internal objects that hold platform clients and credentials (the executor's engine, its
 * backends, compute and storage backends, monitors) print only a summary: `util.inspect` at any
 * depth (console.dir with `depth: null`, notebook displays) and `JSON.stringify` never walk into
 * the S3, OpenWhisk, Lambda or Docker clients, the broker connection or the config they hold.
 */
import { inspect, type InspectOptions } from "node:util";

/**
 * Make `target` print as `<name> <summary>` in `util.inspect` and as `summary` in JSON.
 * @param target - the object (hooks are defined on it, not enumerable)
 * @param name - the class or role shown first
 * @param summary - what is shown: ids, names, counts, endpoints; never a credential
 */
export function showOnly(target: object, name: string, summary: () => Record<string, unknown>): void {
  Object.defineProperties(target, {
    [inspect.custom]: { value: (_depth: number, options: InspectOptions) => `${name} ${inspect(summary(), { ...options, depth: 2 })}`, enumerable: false, configurable: true },
    toJSON: { value: summary, enumerable: false, configurable: true },
  });
}
