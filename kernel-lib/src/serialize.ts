/**
 * Value serialization for inputs, captured values and results: `node:v8` structured
 * serialization, so typed arrays, Buffer, Map, Set, Date, BigInt, RegExp, errors and cyclic
 * object graphs round-trip exactly. A value that cannot be serialized is reported with the path
 * of the offending part (e.g. `input[3].options.onDone`).
 */
import * as v8 from "node:v8";
import { ErrorCodes, TswrenError } from "./errors.js";

/**
 * Serialize one value.
 * @param value - any structured-cloneable value
 * @param path - how the caller names this value in messages, e.g. `input[3]`
 * @returns the serialized bytes
 * @throws TswrenError `TSWREN_NOT_SERIALIZABLE` naming the path of the first part that cannot be
 *   serialized and what to do instead
 */
export function serializeValue(value: unknown, path: string): Buffer {
  try {
    return v8.serialize(value);
  } catch (cause) {
    const found = findUnserializable(value, path, new Set());
    const where = found ?? { path, what: describe(value) };
    throw new TswrenError(
      ErrorCodes.NOT_SERIALIZABLE,
      `${where.path} cannot be serialized (${where.what}). Pass plain data instead: numbers, strings, ` +
        `arrays, plain objects, Map, Set, Date, BigInt, Buffer or typed arrays; functions used by the ` +
        `function itself are captured with it, not passed as data.`,
      { cause },
    );
  }
}

/** Deserialize bytes produced by {@link serializeValue}. */
export function deserializeValue(bytes: Uint8Array): unknown {
  return v8.deserialize(bytes);
}

function describe(value: unknown): string {
  if (typeof value === "function") return `a function${value.name ? ` named ${value.name}` : ""}`;
  if (typeof value === "symbol") return `a symbol ${String(value)}`;
  if (typeof value === "object" && value !== null) {
    const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
    return `a ${ctor ?? "non-plain"} object`;
  }
  return typeof value;
}

function cloneable(value: unknown): boolean {
  try {
    v8.serialize(value);
    return true;
  } catch {
    return false;
  }
}

function children(value: object): Array<[string, unknown]> {
  if (Array.isArray(value)) return value.map((v, i): [string, unknown] => [`[${i}]`, v]);
  if (value instanceof Map) {
    const out: Array<[string, unknown]> = [];
    let i = 0;
    for (const [k, v] of value) {
      out.push([`.<key ${i}>`, k], [`.get(${keyLabel(k)})`, v]);
      i++;
    }
    return out;
  }
  if (value instanceof Set) return [...value].map((v, i): [string, unknown] => [`.<item ${i}>`, v]);
  return Object.entries(value).map(([k, v]): [string, unknown] => [/^[A-Za-z_$][\w$]*$/.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`, v]);
}

function keyLabel(k: unknown): string {
  return typeof k === "string" ? JSON.stringify(k) : typeof k === "object" && k !== null ? "{…}" : String(k);
}

function findUnserializable(value: unknown, path: string, seen: Set<object>): { path: string; what: string } | null {
  if (typeof value === "function" || typeof value === "symbol") return { path, what: describe(value) };
  if (typeof value !== "object" || value === null || seen.has(value)) return null;
  seen.add(value);
  const plain = Array.isArray(value) || value instanceof Map || value instanceof Set || isPlainObject(value);
  if (!plain) return cloneable(value) ? null : { path, what: describe(value) };
  for (const [suffix, child] of children(value)) {
    const found = findUnserializable(child, path + suffix, seen);
    if (found) return found;
  }
  return null;
}

function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null;
}

/** Check that `value` can be sent, for callers that build inputs themselves. */
export function assertSerializable(value: unknown, path = "input"): void {
  serializeValue(value, path);
}
