/**
 * Inputs and outputs of the CLI job commands: JSON option values (`<json>` or `@file`), the
 * iterdata (a JSON list of inputs, or storage URLs for a data job), and the result as one JSON
 * line (Map, Set, BigInt, typed arrays and Buffers converted to JSON), stored in object storage
 * when larger than the inline limit.
 */
import { readFileSync } from "node:fs";
import { objects, type ObjectsInput } from "./data/objects.js";
import { ErrorCodes, TswrenError } from "./errors.js";

const DATA_URL = /^(s3|cos):\/\//;

/**
 * Parse an option holding JSON, or `@path` naming a file of JSON.
 * @param text - the option's value
 * @param option - the option name for messages, e.g. `--iterdata`
 * @throws TswrenError `TSWREN_BAD_INPUT` for unreadable files and invalid JSON
 */
export function parseJsonOption(text: string, option: string): unknown {
  let source = text;
  if (text.startsWith("@")) {
    try {
      source = readFileSync(text.slice(1), "utf8");
    } catch (cause) {
      throw new TswrenError(ErrorCodes.BAD_INPUT, `${option}: cannot read ${text.slice(1)} (${cause instanceof Error ? cause.message : String(cause)}); pass JSON or @<existing file>`, { cause });
    }
  }
  try {
    return JSON.parse(source) as unknown;
  } catch (cause) {
    const shown = source.length > 80 ? `${source.slice(0, 80)}...` : source;
    throw new TswrenError(ErrorCodes.BAD_INPUT, `${option} is not valid JSON (${cause instanceof Error ? cause.message : String(cause)}): ${shown}; quote strings, e.g. ${option} '[1, 2, 3]'`, { cause });
  }
}

/**
 * Turn the parsed `--iterdata` into the input of `map`: a list of inputs, or a storage URL (or
 * a list of them, `s3://bucket/prefix/`) for a data job over objects.
 * @throws TswrenError `TSWREN_BAD_INPUT` for anything else
 */
export function toIterdata(value: unknown, option = "--iterdata"): unknown[] | ObjectsInput {
  if (typeof value === "string") return objects(value);
  if (!Array.isArray(value)) {
    throw new TswrenError(ErrorCodes.BAD_INPUT, `${option} must be a JSON array of inputs (e.g. '[1, 2, 3]') or a storage URL string (e.g. '"s3://bucket/prefix/"'); got ${value === null ? "null" : typeof value}`);
  }
  const list = value as unknown[];
  if (list.length > 0 && list.every((v) => typeof v === "string" && DATA_URL.test(v))) return objects(list as string[]);
  return list;
}

/**
 * Parse an option holding a JSON object (`--extra-args`, `--extra-env`).
 * @throws TswrenError `TSWREN_BAD_INPUT` when it is not an object
 */
export function parseObjectOption(text: string | undefined, option: string): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  const value = parseJsonOption(text, option);
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TswrenError(ErrorCodes.BAD_INPUT, `${option} must be a JSON object, e.g. ${option} '{"key": "value"}'`);
  }
  return value as Record<string, unknown>;
}

/**
 * Parse a numeric option.
 * @throws TswrenError `TSWREN_BAD_OPTION` when it is not a number >= `min` (an integer when asked)
 */
export function parseNumberOption(text: string | undefined, option: string, min: number, integer: boolean): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new TswrenError(ErrorCodes.BAD_OPTION, `${option} must be ${integer ? "an integer" : "a number"} >= ${min}; got ${JSON.stringify(text)}`);
  }
  return n;
}

function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Map) {
    const entries = [...(value as Map<unknown, unknown>).entries()];
    return entries.every(([k]) => typeof k === "string") ? Object.fromEntries(entries) : entries;
  }
  if (value instanceof Set) return [...(value as Set<unknown>)];
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  if (typeof value === "object" && value !== null && (value as { type?: unknown }).type === "Buffer" && Array.isArray((value as { data?: unknown }).data)) {
    return (value as { data: number[] }).data;
  }
  return value;
}

/**
 * The result as one line of JSON (`undefined` becomes `null`).
 * @param value - a job's result
 * @returns compact JSON text without newlines
 */
export function resultJson(value: unknown): string {
  if (Buffer.isBuffer(value)) return JSON.stringify([...value]);
  return JSON.stringify(value === undefined ? null : value, jsonReplacer) ?? "null";
}
