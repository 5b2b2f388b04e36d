/**
 * The global names every worker has: the JavaScript built-ins of a fresh V8 context plus the
 * globals Node adds. A captured function's free names in this set are left alone.
 */
import * as vm from "node:vm";

/** Globals Node provides on top of the language's own (Node 20). */
const NODE_GLOBALS = [
  "global", "globalThis", "process", "Buffer", "console",
  "setTimeout", "setInterval", "setImmediate", "clearTimeout", "clearInterval", "clearImmediate",
  "queueMicrotask", "structuredClone", "URL", "URLSearchParams", "TextEncoder", "TextDecoder",
  "TextEncoderStream", "TextDecoderStream", "AbortController", "AbortSignal", "Event", "EventTarget",
  "CustomEvent", "fetch", "Headers", "Request", "Response", "FormData", "Blob", "File", "performance",
  "PerformanceEntry", "PerformanceMark", "PerformanceMeasure", "PerformanceObserver",
  "PerformanceObserverEntryList", "PerformanceResourceTiming", "crypto", "Crypto", "CryptoKey",
  "SubtleCrypto", "atob", "btoa", "MessageChannel", "MessagePort", "MessageEvent", "BroadcastChannel",
  "DOMException", "ReadableStream", "ReadableStreamDefaultReader", "ReadableStreamBYOBReader",
  "ReadableStreamBYOBRequest", "ReadableByteStreamController", "ReadableStreamDefaultController",
  "WritableStream", "WritableStreamDefaultWriter", "WritableStreamDefaultController", "TransformStream",
  "TransformStreamDefaultController", "ByteLengthQueuingStrategy", "CountQueuingStrategy",
  "CompressionStream", "DecompressionStream", "WebAssembly", "navigator", "WebSocket",
  "undefined", "NaN", "Infinity",
] as const;

let cached: ReadonlySet<string> | null = null;

/**
 * The set of global names available in every worker.
 * @returns names of a fresh `vm` context's global object plus Node's globals
 */
export function builtinGlobalNames(): ReadonlySet<string> {
  if (cached === null) {
    const fresh = vm.runInNewContext("Object.getOwnPropertyNames(globalThis)") as string[];
    cached = new Set<string>([...fresh, ...NODE_GLOBALS]);
  }
  return cached;
}

/**
 * True for a name in {@link builtinGlobalNames}.
 * @param name - an identifier
 */
export function isBuiltinGlobal(name: string): boolean {
  return builtinGlobalNames().has(name);
}

function readGlobal(name: string): unknown {
  try {
    return (globalThis as Record<string, unknown>)[name];
  } catch {
    return undefined;
  }
}

function isObjectLike(value: unknown): value is object {
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

/** Built-in globals and their function members, by identity, in lookup order (first wins). */
let pathsByValue: Map<unknown, string> | null = null;

function builtinPaths(): Map<unknown, string> {
  if (pathsByValue !== null) return pathsByValue;
  const map = new Map<unknown, string>();
  const names = [...builtinGlobalNames()];
  for (const name of names) {
    const value = readGlobal(name);
    if (isObjectLike(value) && !map.has(value)) map.set(value, name);
  }
  for (const name of names) {
    const holder = readGlobal(name);
    if (!isObjectLike(holder) || name === "globalThis" || name === "global") continue;
    for (const key of Object.getOwnPropertyNames(holder)) {
      if (!/^[A-Za-z_$][\w$]*$/.test(key)) continue;
      const desc = Object.getOwnPropertyDescriptor(holder, key);
      if (desc !== undefined && "value" in desc && typeof desc.value === "function" && !map.has(desc.value)) map.set(desc.value, `${name}.${key}`);
    }
  }
  pathsByValue = map;
  return map;
}

function readPath(expr: string): unknown {
  const [name, key] = expr.split(".");
  const holder = readGlobal(name ?? "");
  if (key === undefined) return holder;
  return isObjectLike(holder) ? Object.getOwnPropertyDescriptor(holder, key)?.value : undefined;
}

/**
 * Find a value among the worker's globals, so that it can be referred to instead of shipped:
 * `Math.sqrt`, `JSON.parse`, `Number`, `Math` itself. The index of built-ins is built once per
 * process; a hit is checked against the live global, so a global replaced since is not used.
 * @param value - a function or object
 * @returns an expression such as `Math.sqrt`, or null when the value is not a built-in
 */
export function builtinGlobalPath(value: unknown): string | null {
  if (!isObjectLike(value)) return null;
  const found = builtinPaths().get(value);
  return found !== undefined && readPath(found) === value ? found : null;
}
