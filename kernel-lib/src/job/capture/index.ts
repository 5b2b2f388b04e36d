/**
 * Function capture, the JavaScript answer to cloudpickle: turn a user function and everything it
 * reaches (helper functions, classes, values, npm packages) into a self-contained bundle that a
 * worker in another process can load with {@link loadFunctionBundle}.
 *
 * @see ../function-bundle.ts for the bundle format and the loader
 */
import { createHash } from "node:crypto";
import { ErrorCodes, TswrenError } from "../../errors.js";
import {
  encodeFunctionBundle,
  FUNCTION_BUNDLE_VERSION,
  type BundleModuleRef,
  type FunctionBundle,
} from "../function-bundle.js";
import { emitFactorySource, valueSlots } from "./emit.js";
import { bundleModule, OWN_API_SPECIFIER, type CapturedModule } from "./modules.js";
import { buildCaptureGraph, type CaptureGraph } from "./resolve.js";
import { boundParts } from "./inspect-fn.js";

export type { CapturedModule } from "./modules.js";

/** A captured function, ready to upload. */
export interface CapturedFunction {
  /** sha256 hex (32 chars) of `bundleBytes`: the same function and captures give the same hash. */
  hash: string;
  /** The encoded bundle (see `FunctionBundle` in `function-bundle.ts`). */
  bundleBytes: Buffer;
  /** Bundled npm packages the bundle refers to by hash; upload each once under its hash. */
  modules: CapturedModule[];
  /** True when the function uses tswren's own API (an executor inside the function). */
  usesTswren: boolean;
}

/** Options of {@link captureFunction}. */
export interface CaptureOptions {
  /** Values for names the function uses that tswren cannot see (locals of an enclosing scope). */
  capture?: Record<string, unknown>;
  /** Folder `require("...")` calls in the function resolve packages from (default: `process.cwd()`). */
  cwd?: string;
  /** How error messages name the function, e.g. `map function` (default: `function`). */
  what?: string;
  /** Arguments passed after the item and before the context (`extraArgs` given as an array). */
  appendArgs?: readonly unknown[];
  /** Parameter names object items fill by name (Lithops' keyword arguments): `fn(item.x, item.y, ctx)`. */
  keywordParams?: readonly string[];
}

// Free names of the wrapper below, bound through the capture option (never defined here).
declare const tswrenTarget: Function;
declare const tswrenThis: unknown;
declare const tswrenBefore: unknown[];
declare const tswrenAfter: unknown[];
declare const tswrenKeys: string[];

/** Calls the target as a bound function and `extraArgs` given as an array ask for. */
function tswrenApplied(item: unknown, ctx: unknown): unknown {
  return tswrenTarget.apply(tswrenThis, [...tswrenBefore, item, ...tswrenAfter, ctx]) as unknown;
}

/** Calls the target with an object item's properties as its named parameters (keyword arguments). */
function tswrenKeywords(item: Record<string, unknown>, ctx: unknown): unknown {
  return tswrenTarget.apply(tswrenThis, [...tswrenBefore, ...tswrenKeys.map((k) => item[k]), ...tswrenAfter, ctx]) as unknown;
}

/**
 * A bound function (`fn.bind(obj, 5)`), `appendArgs` or `keywordParams` become a plain wrapper
 * that calls the target with the bound `this` and arguments, the item (or its properties by
 * parameter name), the appended arguments and the context.
 */
function applied(fn: Function, appendArgs: readonly unknown[] | undefined, keywordParams?: readonly string[]): { fn: Function; capture: Record<string, unknown> } | null {
  if (keywordParams !== undefined) {
    return { fn: tswrenKeywords, capture: { tswrenTarget: fn, tswrenThis: undefined, tswrenBefore: [], tswrenAfter: [...(appendArgs ?? [])], tswrenKeys: [...keywordParams] } };
  }
  const bound = boundParts(fn);
  if (bound === null && appendArgs === undefined) return null;
  const inner = bound === null ? null : applied(bound.target, undefined);
  const before = [...(inner === null ? [] : (inner.capture["tswrenBefore"] as unknown[])), ...(bound?.args ?? [])];
  const target = inner === null ? (bound?.target ?? fn) : inner.capture["tswrenTarget"];
  const thisArg = inner === null ? bound?.thisArg : inner.capture["tswrenThis"];
  return { fn: tswrenApplied, capture: { tswrenTarget: target, tswrenThis: thisArg, tswrenBefore: before, tswrenAfter: [...(appendArgs ?? [])] } };
}

function sha256Hex32(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex").slice(0, 32);
}

async function bundleModules(graph: CaptureGraph): Promise<Array<CapturedModule | null>> {
  return Promise.all(
    graph.modules.map((t) => (t.file === null ? Promise.resolve(null) : bundleModule({ specifier: t.specifier, file: t.file }))),
  );
}

function moduleRefs(graph: CaptureGraph, bundled: Array<CapturedModule | null>): BundleModuleRef[] {
  return graph.modules.map((t, i) => {
    const hash = bundled[i]?.hash;
    return hash === undefined ? { specifier: t.specifier } : { specifier: t.specifier, hash };
  });
}

function valuesOf(graph: CaptureGraph): Uint8Array[] {
  const slots = valueSlots(graph);
  const values: Uint8Array[] = new Array<Uint8Array>(slots.size);
  for (const [id, slot] of slots) {
    const e = graph.entities[id];
    values[slot] = e?.kind === "value" && e.bytes !== null ? e.bytes : new Uint8Array();
  }
  return values;
}

function uniqueByHash(modules: Array<CapturedModule | null>): CapturedModule[] {
  const byHash = new Map<string, CapturedModule>();
  for (const m of modules) if (m !== null && !byHash.has(m.hash)) byHash.set(m.hash, m);
  return [...byHash.values()];
}

/**
 * Capture a function with everything it uses, for running in another process.
 *
 * Free names are resolved from `options.capture`, tslab's notebook cells, the worker's globals
 * and user-set globals; functions and classes are captured as source recursively, npm packages
 * bundled with esbuild, other values serialized. Nothing is uploaded or invoked here.
 * @param fn - the user function (arrow, function, async, generator, method or class)
 * @param options - explicit captures, package folder, and how to name the function in messages
 * @returns the bundle bytes, their hash, and the module bundles to upload
 * A bound function ships as its target with the bound `this` and arguments; variables of the
 * function's closure (a factory's locals) are read from V8 when not found elsewhere.
 * @throws TswrenError `TSWREN_UNRESOLVED_NAME` for names tswren cannot see (with the fix);
 *   `TSWREN_CAPTURE_FAILED` for native functions and unparsable sources;
 *   `TSWREN_NOT_SERIALIZABLE` for captured values that cannot be serialized, naming their path;
 *   `TSWREN_MODULE_BUNDLE` for packages that cannot be found or bundled
 * @example
 * ```ts
 * const factor = 3;
 * const captured = await captureFunction((x: number) => x * factor, { capture: { factor } });
 * const fn = loadFunctionBundle(captured.bundleBytes, (hash) => sources.get(hash)!);
 * fn(2); // 6
 * ```
 */
export async function captureFunction(fn: Function, options: CaptureOptions = {}): Promise<CapturedFunction> {
  const what = options.what ?? "function";
  if (typeof fn !== "function") {
    throw new TswrenError(ErrorCodes.CAPTURE_FAILED, `the ${what} must be a function, got ${fn === null ? "null" : typeof fn}`);
  }
  const wrapped = applied(fn, options.appendArgs, options.keywordParams);
  const capture = { ...(options.capture ?? {}), ...(wrapped?.capture ?? {}) };
  const graph = buildCaptureGraph(wrapped?.fn ?? fn, { capture, cwd: options.cwd ?? process.cwd(), what });
  const bundled = await bundleModules(graph);
  const bundle: FunctionBundle = {
    version: FUNCTION_BUNDLE_VERSION,
    source: emitFactorySource(graph),
    values: valuesOf(graph),
    modules: moduleRefs(graph, bundled),
    name: fn.name,
  };
  const bundleBytes = encodeFunctionBundle(bundle);
  const usesTswren = graph.modules.some((t) => t.specifier === OWN_API_SPECIFIER && t.file === null);
  return { hash: sha256Hex32(bundleBytes), bundleBytes, modules: uniqueByHash(bundled), usesTswren };
}
