/**
 * The function bundle: what the client ships of a user function, and the loader the worker uses.
 *
 * A bundle is a `node:v8`-serialized {@link FunctionBundle}: the generated `source` of a factory
 * (an arrow function taking the loader's runtime helpers and returning the user function), the
 * serialized captured values, and the modules it needs (bundled npm packages by content hash,
 * Node built-ins by name). The loader evaluates that source with `vm.runInThisContext`: the only
 * code tswren ever evaluates, and it is code the client itself produced.
 *
 * This module is loaded by the worker runtime, so it must stay light: no esbuild, no acorn.
 */
import * as path from "node:path";
import * as v8 from "node:v8";
import * as vm from "node:vm";
import { createRequire, isBuiltin } from "node:module";
import { ErrorCodes, TswrenError } from "../errors.js";
import { deserializeValue } from "../serialize.js";

/** Version of the bundle format; a worker refuses bundles of another version. */
export const FUNCTION_BUNDLE_VERSION = 1;

/** A module a bundle needs: a Node built-in (no `hash`) or an esbuild CJS bundle of a package. */
export interface BundleModuleRef {
  /** The package name or built-in name (`semver`, `@scope/pkg`, `node:fs`), as `require` would see it. */
  specifier: string;
  /** Content hash of the bundled source; absent for Node built-ins. */
  hash?: string;
}

/** The decoded bundle. */
export interface FunctionBundle {
  version: typeof FUNCTION_BUNDLE_VERSION;
  /** Generated JavaScript: `((rt) => { ...definitions...; return userFunction; })`. */
  source: string;
  /** Captured values, each serialized with `serializeValue`; `rt.value(i)` reads entry `i`. */
  values: Uint8Array[];
  /** Modules; `rt.module(i, shape)` reads entry `i`. */
  modules: BundleModuleRef[];
  /** A label for stack traces and messages (the function's name). */
  name: string;
}

/** How a captured module value looks to the code that uses it. */
export type ModuleShape = "raw" | "star";

/** The helpers the generated factory receives as its only argument. */
export interface BundleRuntime {
  /** `require` for the user code: captured specifiers first, then Node built-ins. */
  require: (specifier: string) => unknown;
  /** Captured value `i`, deserialized once. */
  value: (index: number) => unknown;
  /** Module `i`, as the raw `module.exports` or as TypeScript's `__importStar` namespace. */
  module: (index: number, shape: ModuleShape) => unknown;
  /** The single method of an object literal (for functions written as `name(args) {...}`). */
  method: (holder: object) => unknown;
  /** An object whose properties are read lazily from getters (tslab's `exports`). */
  lazy: (getters: Record<string, () => unknown>) => Record<string, unknown>;
  /** Give a deserialized object its class's prototype back (`Object.setPrototypeOf`). */
  instance: (value: unknown, ctor: { prototype: object | null }) => unknown;
  /** esbuild's `__name` helper (keepNames), for functions compiled by tsx or esbuild. */
  keepName: <T>(target: T, value: string) => T;
}

/**
 * Encode a bundle to bytes.
 * @param bundle - the bundle
 * @returns the `node:v8` serialization of the bundle
 */
export function encodeFunctionBundle(bundle: FunctionBundle): Buffer {
  return v8.serialize(bundle);
}

/**
 * Decode and check bundle bytes.
 * @param bundleBytes - bytes made by {@link encodeFunctionBundle}
 * @returns the bundle
 * @throws TswrenError `TSWREN_PROTOCOL` when the bytes are not a bundle of this version
 */
export function decodeFunctionBundle(bundleBytes: Uint8Array): FunctionBundle {
  let decoded: unknown;
  try {
    decoded = v8.deserialize(bundleBytes);
  } catch (cause) {
    throw new TswrenError(ErrorCodes.PROTOCOL, "the function bundle is not readable (corrupt or truncated)", { cause });
  }
  if (!isBundle(decoded)) {
    throw new TswrenError(
      ErrorCodes.PROTOCOL,
      `the function bundle has format version ${describeVersion(decoded)}, this worker reads version ` +
        `${FUNCTION_BUNDLE_VERSION}; use the same tswren version on the client and the runtime`,
    );
  }
  return decoded;
}

function describeVersion(decoded: unknown): string {
  const v = typeof decoded === "object" && decoded !== null ? (decoded as { version?: unknown }).version : undefined;
  return typeof v === "number" ? String(v) : "unknown";
}

function isBundle(decoded: unknown): decoded is FunctionBundle {
  if (typeof decoded !== "object" || decoded === null) return false;
  const b = decoded as Partial<FunctionBundle>;
  return b.version === FUNCTION_BUNDLE_VERSION && typeof b.source === "string" && Array.isArray(b.values) && Array.isArray(b.modules);
}

/**
 * The content hashes of the bundled modules a bundle needs, so a worker can fetch them first.
 * @param bundleBytes - the encoded bundle
 * @returns module hashes, without duplicates, in the bundle's order
 * @throws TswrenError `TSWREN_PROTOCOL` for unreadable bytes
 */
export function bundleModuleHashes(bundleBytes: Uint8Array): string[] {
  const hashes = decodeFunctionBundle(bundleBytes).modules.flatMap((m) => (m.hash === undefined ? [] : [m.hash]));
  return [...new Set(hashes)];
}

/** Node built-ins, for module bundles and user code (resolution never leaves the built-ins). */
const nodeRequire = createRequire(path.join(process.cwd(), "tswren-function.js"));

/** Modules the worker runtime provides itself (tswren's own API), by specifier. */
const runtimeModules = new Map<string, unknown>();

/**
 * Make a module of the worker runtime available to functions under `specifier` (the local
 * worker provides `tswren`, so a function can create an executor inside a call).
 * @param specifier - the name functions import it by
 * @param exports - the module's exports
 */
export function provideRuntimeModule(specifier: string, exports: unknown): void {
  runtimeModules.set(specifier, exports);
}

function requireBuiltin(specifier: string): unknown {
  if (runtimeModules.has(specifier)) return runtimeModules.get(specifier);
  if (!isBuiltin(specifier)) {
    throw new TswrenError(
      ErrorCodes.MODULE_BUNDLE,
      `Cannot find module '${specifier}': it was not captured with the function. tswren bundles packages ` +
        `that are imported at the top level or required with a string literal; import it that way.`,
    );
  }
  return nodeRequire(specifier);
}

/** Evaluated module exports, per content hash, for the life of the process. */
const evaluatedModules = new Map<string, unknown>();

function evaluateModule(hash: string, source: string): unknown {
  const cached = evaluatedModules.get(hash);
  if (cached !== undefined || evaluatedModules.has(hash)) return cached;
  const filename = path.join(process.cwd(), `tswren-module-${hash}.js`);
  const wrapper = vm.runInThisContext(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename,
  }) as (exports: unknown, req: unknown, module: { exports: unknown }, file: string, dir: string) => void;
  const module = { exports: {} as unknown };
  wrapper.call(module.exports, module.exports, requireBuiltin, module, filename, path.dirname(filename));
  evaluatedModules.set(hash, module.exports);
  return module.exports;
}

/** TypeScript's `__importStar`: the namespace an `import * as m` sees. */
function importStar(mod: unknown): unknown {
  if ((typeof mod !== "object" && typeof mod !== "function") || mod === null) return { default: mod };
  if ((mod as { __esModule?: unknown }).__esModule) return mod;
  const result: Record<string, unknown> = {};
  for (const key of Object.keys(mod)) {
    if (key === "default") continue;
    Object.defineProperty(result, key, { enumerable: true, get: () => (mod as Record<string, unknown>)[key] });
  }
  Object.defineProperty(result, "default", { enumerable: true, value: mod });
  return result;
}

function lazy(getters: Record<string, () => unknown>): Record<string, unknown> {
  const target: Record<string, unknown> = {};
  for (const [key, get] of Object.entries(getters)) {
    Object.defineProperty(target, key, {
      enumerable: true,
      configurable: true,
      get,
      set(value: unknown) {
        Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
      },
    });
  }
  return target;
}

function method(holder: object): unknown {
  const [key] = Reflect.ownKeys(holder);
  const desc: { value?: unknown; get?: unknown; set?: unknown } | undefined =
    key === undefined ? undefined : Object.getOwnPropertyDescriptor(holder, key);
  return desc?.value ?? desc?.get ?? desc?.set;
}

function instance(value: unknown, ctor: { prototype: object | null }): unknown {
  return typeof value === "object" && value !== null ? Object.setPrototypeOf(value, ctor.prototype) : value;
}

function keepName<T>(target: T, value: string): T {
  return Object.defineProperty(target, "name", { value, configurable: true });
}

function createRuntime(bundle: FunctionBundle, moduleSource: (hash: string) => string): BundleRuntime {
  const values = new Map<number, unknown>();
  const moduleExports = (index: number): unknown => {
    const ref = bundle.modules[index];
    if (ref === undefined) throw new TswrenError(ErrorCodes.PROTOCOL, `the function bundle has no module ${index}`);
    return ref.hash === undefined ? requireBuiltin(ref.specifier) : evaluateModule(ref.hash, moduleSource(ref.hash));
  };
  const bySpecifier = new Map(bundle.modules.map((m, i) => [m.specifier, i]));
  return {
    require(specifier) {
      const index = bySpecifier.get(specifier);
      return index === undefined ? requireBuiltin(specifier) : moduleExports(index);
    },
    value(index) {
      if (!values.has(index)) values.set(index, deserializeValue(bundle.values[index] ?? new Uint8Array()));
      return values.get(index);
    },
    module: (index, shape) => (shape === "star" ? importStar(moduleExports(index)) : moduleExports(index)),
    method,
    lazy,
    instance,
    keepName,
  };
}

/**
 * Load a function bundle: evaluate the client-generated factory and return the user function.
 * @param bundleBytes - the encoded bundle
 * @param moduleSource - returns the source of a bundled module by hash (prefetched by the caller,
 *   see {@link bundleModuleHashes}); called at most once per hash per process
 * @returns the user function, to be called as `fn(item, ctx)`
 * @throws TswrenError `TSWREN_PROTOCOL` for unreadable bytes; errors thrown while defining the
 *   captured functions and classes propagate as they are
 */
export function loadFunctionBundle(
  bundleBytes: Uint8Array,
  moduleSource: (hash: string) => string,
): (...args: unknown[]) => unknown {
  const bundle = decodeFunctionBundle(bundleBytes);
  const label = bundle.name.replace(/[^\w$-]/g, "_") || "anonymous";
  const factory = vm.runInThisContext(bundle.source, { filename: `tswren-function-${label}.js` }) as (
    rt: BundleRuntime,
  ) => unknown;
  const fn = factory(createRuntime(bundle, moduleSource));
  if (typeof fn !== "function") {
    throw new TswrenError(ErrorCodes.PROTOCOL, `the function bundle produced a ${typeof fn}, not a function`);
  }
  return fn as (...args: unknown[]) => unknown;
}
