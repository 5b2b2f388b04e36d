/**
 * Validation of the options of `map`, `callAsync` and `mapReduce` at the public boundary: an
 * unknown option or a bad value is an error naming the option and the fix, before anything runs.
 */
import { closestName } from "../config/suggest.js";
import { validateChunkOptions } from "../data/partitioner.js";
import { ErrorCodes, TswrenError } from "../errors.js";
import { keySpec, sectionSpec } from "../config/schema.js";

/** Options of one job (`map`, `callAsync`, `mapReduce`). */
export interface CallOptions {
  /**
   * An object is merged into every (object) input item; an array is passed as further arguments
   * after the item: the function is called as `fn(item, ...extraArgs, ctx)`.
   */
  extraArgs?: Record<string, unknown> | readonly unknown[];
  /** Seconds a call may run before it is stopped and fails (default: the backend's runtime_timeout). */
  timeout?: number;
  /** Memory limit of each call's worker, in MB (default: the backend's runtime_memory). */
  runtimeMemory?: number;
  /** Re-run a failed call up to this many times; only the last attempt counts. */
  retries?: number;
  /** Values for free names of the function that tswren cannot see (locals of an enclosing scope). */
  capture?: Record<string, unknown>;
  /** Environment variables set while the function runs. */
  extraEnv?: Record<string, string>;
  /** With `objects(...)` input: bytes per part (each object gets `ceil(size / chunkSize)` parts). */
  chunkSize?: number;
  /** With `objects(...)` input: parts per object (wins over `chunkSize`). */
  chunkNumber?: number;
  /**
   * With `objects(...)` input: `false` splits at exact byte ranges with no line alignment
   * (Lithops' `obj_newline = None`; lines may be cut between parts). Default true.
   */
  lineAligned?: boolean;
  /** Send the job as one activation that invokes its calls from inside the platform (OpenWhisk). */
  remoteInvoker?: boolean;
  /** The job's name for people (progress bars, chart titles; default: the function's name). */
  name?: string;
}

/** Options of `mapReduce`: the map options plus how the reducer waits. */
export interface MapReduceOptions extends CallOptions {
  /** Wait for the map results on the client, then start the reducer (default false: it waits remotely). */
  reducerWaitLocal?: boolean;
  /** With `objects(...)` input: one reducer per object, each given that object's part results in part order. */
  reducerOnePerObject?: boolean;
}

const CALL_OPTION_NAMES = ["extraArgs", "timeout", "runtimeMemory", "retries", "capture", "extraEnv", "chunkSize", "chunkNumber", "remoteInvoker", "lineAligned", "name"] as const;
const MAP_REDUCE_OPTION_NAMES = [...CALL_OPTION_NAMES, "reducerWaitLocal", "reducerOnePerObject"] as const;

function bad(what: string, option: string, message: string): TswrenError {
  return new TswrenError(ErrorCodes.BAD_OPTION, `${what}: option \`${option}\` ${message}`);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function checkNumber(what: string, name: string, value: unknown, min: number, integer: boolean, unit: string): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || (integer && !Number.isInteger(value))) {
    throw bad(what, name, `must be ${integer ? "an integer" : "a number"} >= ${min}${unit}; got ${JSON.stringify(value)}`);
  }
}

/**
 * Check job options; returns them typed.
 * @param what - the call being checked, e.g. `map`
 * @throws TswrenError `TSWREN_BAD_OPTION`
 */
export function validateCallOptions(what: string, options: unknown, mapReduce = false): MapReduceOptions {
  if (options === undefined) return {};
  if (!isPlainObject(options)) throw new TswrenError(ErrorCodes.BAD_OPTION, `${what}: options must be an object like { timeout: 60 }`);
  const allowed: readonly string[] = mapReduce ? MAP_REDUCE_OPTION_NAMES : CALL_OPTION_NAMES;
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) {
      const guess = closestName(key, allowed);
      throw bad(what, key, `is not known${guess ? `; did you mean \`${guess}\`?` : ""} (known: ${allowed.join(", ")})`);
    }
  }
  checkNumber(what, "timeout", options["timeout"], 0.001, false, " seconds");
  checkNumber(what, "runtimeMemory", options["runtimeMemory"], 64, true, " MB");
  checkNumber(what, "retries", options["retries"], 0, true, "");
  for (const name of ["extraArgs", "capture", "extraEnv"] as const) {
    const v = options[name];
    if (name === "extraArgs" && Array.isArray(v)) continue;
    if (v !== undefined && !isPlainObject(v)) throw bad(what, name, `must be a plain object; got ${Array.isArray(v) ? "an array" : typeof v}`);
  }
  const env = options["extraEnv"] as Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(env ?? {})) {
    if (typeof v !== "string") throw bad(what, `extraEnv.${k}`, `must be a string; got ${typeof v}`);
  }
  for (const name of ["reducerWaitLocal", "reducerOnePerObject", "remoteInvoker", "lineAligned"] as const) {
    const flag = options[name];
    if (flag !== undefined && typeof flag !== "boolean") throw bad(what, name, "must be true or false");
  }
  const jobName = options["name"];
  if (jobName !== undefined && (typeof jobName !== "string" || jobName.trim() === "" || jobName.length > 100)) throw bad(what, "name", `must be a non-empty string of at most 100 characters; got ${JSON.stringify(jobName)}`);
  validateChunkOptions({ chunkSize: options["chunkSize"] as number | undefined, chunkNumber: options["chunkNumber"] as number | undefined });
  return options;
}

/**
 * Merge `extraArgs` (an object) into each item; items must then be plain objects.
 * @throws TswrenError `TSWREN_BAD_INPUT` naming the first item that is not an object
 */
export function mergeExtraArgs(what: string, items: unknown[], extraArgs: CallOptions["extraArgs"]): unknown[] {
  // An array travels with the function (as arguments after the item), not in the items.
  if (extraArgs === undefined || isArgumentList(extraArgs)) return items;
  return items.map((item, i) => {
    if (!isPlainObject(item)) {
      throw new TswrenError(
        ErrorCodes.BAD_INPUT,
        `${what}: input[${i}] is ${item === null ? "null" : Array.isArray(item) ? "an array" : typeof item}, but extraArgs can only be merged into object items; pass objects like { x: 1 } or drop extraArgs`,
      );
    }
    return { ...item, ...extraArgs };
  });
}

/**
 * Check a job's `timeout` against the most the selected compute backend can hold (its
 * `runtime_timeout` maximum: the platform's limit, or what Node timers hold).
 * @throws TswrenError `TSWREN_BAD_OPTION` naming the maximum
 */
export function checkCallTimeout(what: string, backend: string, timeoutS: number | undefined): void {
  const section = sectionSpec(backend);
  const max = section === undefined ? undefined : keySpec(section, "runtime_timeout")?.max;
  if (timeoutS === undefined || max === undefined || timeoutS <= max) return;
  throw bad(what, "timeout", `is ${timeoutS} s, above the most the ${backend} backend can hold (${max} s); use at most ${max}`);
}

/** True for `extraArgs` given as an array (arguments after the item). */
export function isArgumentList(extraArgs: CallOptions["extraArgs"]): extraArgs is readonly unknown[] {
  return Array.isArray(extraArgs);
}
