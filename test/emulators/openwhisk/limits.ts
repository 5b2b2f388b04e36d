/**
 * OpenWhisk's limits as the emulator applies them: defaults (Apache's), the messages the real
 * controller answers with, the per-minute invoke window and action-limit validation.
 */
import { HttpError, isObject } from "./http-json.js";
import type { ActionLimits, LimitBounds } from "./types.js";

/** Apache OpenWhisk's defaults, plus IBM's larger memory sizes so those deploy too. */
export const DEFAULTS = {
  namespace: "guest",
  concurrentLimit: 100,
  invocationsPerMinute: 120,
  maxPayloadBytes: 1024 * 1024,
  maxResultBytes: 1024 * 1024,
  maxCodeBytes: 48 * 1024 * 1024,
  blockingTimeoutMs: 60_000,
  idleContainerMs: 60_000,
  logMarkerWaitMs: 2_000,
  timeoutMs: 60_000,
  memoryMb: 256,
  logsMb: 10,
  bounds: { minTimeoutMs: 100, maxTimeoutMs: 300_000, minMemoryMb: 128, maxMemoryMb: 2048, maxConcurrency: 500 },
} as const satisfies Record<string, unknown> & { bounds: LimitBounds };

/** The controller's messages (`org.apache.openwhisk.http.Messages`). */
export const MESSAGES = {
  notFound: "The requested resource does not exist.",
  unauthenticated: "The supplied authentication is invalid",
  forbidden: "The supplied authentication is not authorized to access this resource.",
  exists: "resource already exists",
  illegalName: "The name of the entity contains illegal characters.",
  abnormalRun: "The action did not produce a valid response and exited unexpectedly.",
  abnormalInit: "The action did not initialize and exited unexpectedly.",
  logWarning: "The action did not initialize or run as expected. Log data might be missing.",
  tooManyPerMinute: (count: number, allowed: number): string =>
    `Too many requests in the last minute (count: ${count}, allowed: ${allowed}).`,
  tooManyConcurrent: (count: number, allowed: number): string =>
    `Too many concurrent requests in flight (count: ${count}, allowed: ${allowed}).`,
  tooBig: (field: string, bytes: number, allowed: number): string =>
    `${field} larger than allowed: ${bytes} > ${allowed} bytes.`,
  timedOut: (timeoutMs: number, init: boolean): string =>
    `The action exceeded its time limits of ${timeoutMs} milliseconds${init ? " during initialization." : "."}`,
  invalidRun: (body: string): string =>
    `The action did not produce a valid JSON response${body === "" ? "." : `: ${body}`}`,
  invalidInit: (body: string): string => `The action failed during initialization${body === "" ? "." : `: ${body}`}`,
  truncated: (bytes: number, allowed: number): string =>
    `The action produced a response that exceeded the allowed length: ${bytes} > ${allowed} bytes.`,
  packageNotEmpty: (count: number): string => `Package not empty (contains ${count} ${count === 1 ? "entity" : "entities"})`,
} as const;

/** Entity names OpenWhisk accepts. */
const NAME_PATTERN = /^(?:\w|\w[\w@ .-]*[\w@.-])$/;

/**
 * Check an entity name (action, package).
 * @param name - the name
 * @throws HttpError 400 with OpenWhisk's message when it has illegal characters
 */
export function checkName(name: string): void {
  if (name.length > 256 || !NAME_PATTERN.test(name)) throw new HttpError(400, MESSAGES.illegalName);
}

/**
 * Invokes per rolling minute, counted in one-second buckets. As in OpenWhisk, a rejected invoke
 * counts too (the count is taken before the decision).
 */
export class MinuteWindow {
  private readonly buckets = new Array<number>(60).fill(0);
  private readonly stamps = new Array<number>(60).fill(-1);

  /**
   * Count one invoke now.
   * @param nowMs - the clock
   * @returns the count in the last minute, this invoke included
   */
  hit(nowMs: number): number {
    const second = Math.floor(nowMs / 1000);
    const slot = second % 60;
    if (this.stamps[slot] !== second) {
      this.stamps[slot] = second;
      this.buckets[slot] = 0;
    }
    this.buckets[slot] = (this.buckets[slot] ?? 0) + 1;
    let count = 0;
    for (let i = 0; i < 60; i++) if ((this.stamps[i] ?? -1) > second - 60) count += this.buckets[i] ?? 0;
    return count;
  }
}

/**
 * Validate and complete the `limits` of an action PUT.
 * @param input - the body's `limits` (may be absent)
 * @param previous - the limits before an update (unset fields keep them)
 * @param bounds - allowed ranges
 * @returns complete limits
 * @throws HttpError 400 for a value out of range
 */
export function actionLimits(input: unknown, previous: ActionLimits | undefined, bounds: LimitBounds): ActionLimits {
  const given = isObject(input) ? input : {};
  const pick = (key: keyof ActionLimits, fallback: number): number => {
    const value = given[key];
    if (value === undefined) return previous?.[key] ?? fallback;
    if (typeof value !== "number" || !Number.isInteger(value)) throw new HttpError(400, `limits.${key} must be an integer.`);
    return value;
  };
  const limits: ActionLimits = {
    timeout: pick("timeout", DEFAULTS.timeoutMs),
    memory: pick("memory", DEFAULTS.memoryMb),
    logs: pick("logs", DEFAULTS.logsMb),
    concurrency: pick("concurrency", 1),
  };
  inRange("duration", limits.timeout, bounds.minTimeoutMs, bounds.maxTimeoutMs, "milliseconds");
  inRange("memory", limits.memory, bounds.minMemoryMb, bounds.maxMemoryMb, "MB");
  inRange("concurrency", limits.concurrency, 1, bounds.maxConcurrency, "");
  return limits;
}

function inRange(what: string, value: number, min: number, max: number, unit: string): void {
  const u = unit === "" ? "" : ` ${unit}`;
  if (value < min) throw new HttpError(400, `${what} ${value}${u} below allowed threshold of ${min}${u}`);
  if (value > max) throw new HttpError(400, `${what} ${value}${u} exceeds allowed threshold of ${max}${u}`);
}
