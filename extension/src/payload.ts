/**
 * Validation of the progress payload tswren sends under {@link PROGRESS_MIME}. The payload type,
 * MIME type, version and elapsed-time formatter are declared once, in the library's import-free
 * module `tswren/progress-payload`; this renderer reads the current version and the previous one
 * (version 1: no `cancelled`, cancelled calls counted as failed; no `stopped`).
 */
import { formatElapsed, PROGRESS_MIME, PROGRESS_PAYLOAD_VERSION } from "tswren/progress-payload";
import type { ProgressPayload } from "tswren/progress-payload";

export { formatElapsed, PROGRESS_MIME };
export type { ProgressPayload };

/** The payload version this renderer reads (and every version before it). */
export const PAYLOAD_VERSION = PROGRESS_PAYLOAD_VERSION;

/** A payload as read: the current shape, with the version it arrived with. */
export type ReadPayload = Omit<ProgressPayload, "version"> & { version: number };

/** A parse result: the payload, or why it cannot be shown. */
export type ParsedPayload = { ok: true; payload: ReadPayload } | { ok: false; reason: string };

const COUNTS = ["total", "done", "failed", "running"] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0;
}

/** The four counts every version has, or the reason one is bad. */
function readCounts(data: Record<string, unknown>): Record<(typeof COUNTS)[number], number> | string {
  const counts = { total: 0, done: 0, failed: 0, running: 0 };
  for (const key of COUNTS) {
    const value = data[key];
    if (!isCount(value)) return `"${key}" must be a non-negative integer, got ${describe(value)}`;
    counts[key] = value;
  }
  return counts;
}

/** `cancelled` (version 2 on; 0 before) and `stopped`, or the reason one is bad. */
function readV2(data: Record<string, unknown>, version: number): { cancelled: number; stopped?: string } | string {
  const { cancelled = version < 2 ? 0 : undefined, stopped } = data;
  if (!isCount(cancelled)) return `"cancelled" must be a non-negative integer, got ${describe(cancelled)}`;
  if (stopped !== undefined && typeof stopped !== "string") return `"stopped" must be a string, got ${describe(stopped)}`;
  return stopped === undefined ? { cancelled } : { cancelled, stopped };
}

/**
 * Check a payload of unknown shape. Never throws: every problem becomes a reason naming the
 * field and what was expected.
 */
export function parsePayload(data: unknown): ParsedPayload {
  if (!isRecord(data)) return { ok: false, reason: `expected a JSON object, got ${describe(data)}` };
  const { version, jobId, label, elapsedSeconds, finished } = data;
  if (typeof version !== "number" || !Number.isInteger(version) || version < 1) {
    return { ok: false, reason: `"version" must be a positive integer, got ${describe(version)}` };
  }
  if (typeof jobId !== "string") return { ok: false, reason: `"jobId" must be a string, got ${describe(jobId)}` };
  if (typeof label !== "string") return { ok: false, reason: `"label" must be a string, got ${describe(label)}` };
  const counts = readCounts(data);
  if (typeof counts === "string") return { ok: false, reason: counts };
  const extra = readV2(data, version);
  if (typeof extra === "string") return { ok: false, reason: extra };
  if (typeof elapsedSeconds !== "number" || !Number.isFinite(elapsedSeconds) || elapsedSeconds < 0) {
    return { ok: false, reason: `"elapsedSeconds" must be a non-negative number, got ${describe(elapsedSeconds)}` };
  }
  if (typeof finished !== "boolean") return { ok: false, reason: `"finished" must be true or false, got ${describe(finished)}` };
  const { total, done, failed } = counts;
  if (done + failed + extra.cancelled > total) {
    return { ok: false, reason: `done (${done}) + failed (${failed}) + cancelled (${extra.cancelled}) exceeds total (${total})` };
  }
  return { ok: true, payload: { version, jobId, label, ...counts, ...extra, elapsedSeconds, finished } };
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
