/** Checking one config value against its {@link KeySpec}, and saying what was expected. */
import type { KeySpec } from "./schema.js";
import { closestName } from "./suggest.js";

/** What is wrong with a value: what was expected and, maybe, what was probably meant. */
export interface ValueProblem {
  /** What the key expects, e.g. `an integer from 128 to 2048 (MB)`. */
  readonly expected: string;
  /** A suggestion such as "did you mean `openwhisk`?". */
  readonly hint?: string;
}

/** Shown instead of the value of a secret key. */
export const HIDDEN = "<hidden>";

/** Strings people mean as booleans; YAML 1.2 reads `yes`, `no`, `on` and `off` as text. */
const BOOL_WORDS = /^(true|false|yes|no|on|off)$/i;

const UNIT_WORDS = { s: "seconds", ms: "milliseconds", MB: "MB", USD: "USD" } as const;

/** The range of a number key in words, e.g. ` from 1 to 600` or ` > 0`. */
function rangeText(spec: KeySpec): string {
  const low = spec.above !== undefined ? `> ${spec.above}` : spec.min !== undefined ? `>= ${spec.min}` : "";
  if (spec.min !== undefined && spec.max !== undefined) return ` from ${spec.min} to ${spec.max}`;
  if (spec.max !== undefined) return low === "" ? ` <= ${spec.max}` : ` ${low} and <= ${spec.max}`;
  return low === "" ? "" : ` ${low}`;
}

/** What a key expects, in words, e.g. `an integer from 128 to 2048 (MB)`. */
export function expectation(spec: KeySpec): string {
  const unit = spec.unit === undefined ? "" : ` (${UNIT_WORDS[spec.unit]})`;
  switch (spec.type) {
    case "string":
      return spec.pattern?.expected ?? "a string";
    case "path":
      return "a path";
    case "url":
      return `a URL starting with ${(spec.protocols ?? ["http", "https"]).map((p) => `${p}://`).join(" or ")}`;
    case "bool":
      return "true or false";
    case "int":
      return `an integer${rangeText(spec)}${unit}`;
    case "number":
      return `a number${rangeText(spec)}${unit}`;
    case "number_list":
      return `a list of numbers${rangeText(spec)}${unit}, e.g. [1, 5]`;
    case "enum":
      return `one of ${(spec.values ?? []).join(", ")}`;
  }
}

function inRange(spec: KeySpec, n: number): boolean {
  if (!Number.isFinite(n)) return false;
  if (spec.min !== undefined && n < spec.min) return false;
  if (spec.above !== undefined && n <= spec.above) return false;
  return spec.max === undefined || n <= spec.max;
}

function isUrl(spec: KeySpec, value: string): boolean {
  if (!URL.canParse(value)) return false;
  const protocol = new URL(value).protocol.replace(/:$/, "");
  return (spec.protocols ?? ["http", "https"]).includes(protocol);
}

/** True when the value passes the checks of its key's type. */
function passes(spec: KeySpec, value: unknown): boolean {
  switch (spec.type) {
    case "string":
      return typeof value === "string" && (spec.pattern === undefined || spec.pattern.regex.test(value));
    case "path":
      return typeof value === "string" && value !== "";
    case "url":
      return typeof value === "string" && isUrl(spec, value);
    case "bool":
      return typeof value === "boolean";
    case "int":
      return typeof value === "number" && Number.isInteger(value) && inRange(spec, value);
    case "number":
      return typeof value === "number" && inRange(spec, value);
    case "number_list":
      return Array.isArray(value) && value.every((v) => typeof v === "number" && inRange(spec, v));
    case "enum":
      return typeof value === "string" && (spec.values ?? []).includes(value);
  }
}

/**
 * Check a value against its key's spec.
 * @param spec - the key's spec
 * @param value - the value a source gave (never `undefined` or `null`)
 * @returns undefined when the value is fine, else what was expected and a hint
 */
export function checkValue(spec: KeySpec, value: unknown): ValueProblem | undefined {
  if (passes(spec, value)) return undefined;
  const expected = expectation(spec);
  if (spec.type === "enum" && typeof value === "string") {
    const near = closestName(value, spec.values ?? []);
    if (near !== undefined) return { expected, hint: `did you mean \`${near}\`?` };
  }
  if (spec.type === "bool" && typeof value === "string" && BOOL_WORDS.test(value)) {
    return { expected, hint: "write true or false, without quotes" };
  }
  return { expected };
}

/** JSON of a value, cut to 60 characters; `String()` for what JSON cannot show. */
function shortJson(value: unknown): string {
  let text: string;
  try {
    text = typeof value === "number" ? String(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = Array.isArray(value) ? "[...]" : "{...}";
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/**
 * The value as shown in a message: `<hidden>` for secrets, else short JSON with its kind when
 * the kind is the likely mistake (`"1024" (a string)`).
 */
export function describeValue(spec: KeySpec, value: unknown): string {
  if (spec.secret === true) return HIDDEN;
  if (typeof value === "function" || typeof value === "symbol" || typeof value === "bigint") {
    return `a ${typeof value}`;
  }
  const text = shortJson(value);
  if (typeof value === "string" && !["string", "path", "url", "enum"].includes(spec.type)) return `${text} (a string)`;
  if (Array.isArray(value) && spec.type !== "number_list") return `${text} (a list)`;
  if (typeof value === "object" && value !== null && !Array.isArray(value)) return `${text} (a mapping)`;
  return text;
}
