/**
 * A job's call specs (which input each call got: inline bytes, a range of the job's data, the map
 * calls of a reducer) kept in storage as `calls.json` beside the job's data, so `tswren replay`
 * can re-run a call from another process. Only small jobs keep them: a million-call map does not
 * write a second copy of its inputs.
 */
import { ErrorCodes, TswrenError } from "../errors.js";
import type { CallSpec } from "../protocol.js";

/** Jobs with more calls than this keep no call specs. */
export const MAX_KEPT_CALLS = 10_000;
/** Jobs whose inline inputs are larger than this (bytes) keep no call specs. */
export const MAX_KEPT_INLINE_BYTES = 4 << 20;

/** True when a job is small enough to keep its call specs. */
export function keepCallSpecs(calls: readonly CallSpec[]): boolean {
  if (calls.length > MAX_KEPT_CALLS) return false;
  let inline = 0;
  for (const c of calls) if (c.input.kind === "inline") inline += c.input.bytes.length;
  return inline <= MAX_KEPT_INLINE_BYTES;
}

/** JSON of call specs (inline bytes as base64). */
export function encodeCallSpecs(calls: readonly CallSpec[]): string {
  return JSON.stringify(calls.map((c) => (c.input.kind === "inline" ? { ...c, input: { kind: "inline", b64: Buffer.from(c.input.bytes).toString("base64") } } : c)));
}

/** Decode {@link encodeCallSpecs}. @throws TswrenError `TSWREN_PROTOCOL` */
export function decodeCallSpecs(text: string, key: string): CallSpec[] {
  try {
    const raw = JSON.parse(text) as Array<CallSpec & { input: { kind: string; b64?: string } }>;
    return raw.map((c) => (c.input.kind === "inline" ? { ...c, input: { kind: "inline", bytes: Buffer.from(c.input.b64 ?? "", "base64") } } : c));
  } catch (err) {
    throw new TswrenError(ErrorCodes.PROTOCOL, `the call specs ${key} cannot be read`, { cause: err });
  }
}
