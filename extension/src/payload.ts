/**
 * The progress payload tswren sends under {@link PROGRESS_MIME}, and its validation. The kernel
 * side emits one `display_data` per job and `update_display_data` with the same display id on
 * every change; the last update has `finished: true`.
 */

/** The MIME type this extension renders. */
export const PROGRESS_MIME = "application/vnd.tswren.progress+json";

/** The payload version this renderer reads. */
export const PAYLOAD_VERSION = 1;

/** One progress snapshot of a job. */
export interface ProgressPayload {
  version: number;
  /** The job id, e.g. `M000`. */
  jobId: string;
  /** What the job is, e.g. `map`. */
  label: string;
  /** Calls in the job. */
  total: number;
  /** Calls that succeeded. */
  done: number;
  /** Calls that failed (error or cancelled). */
  failed: number;
  /** Calls running now. */
  running: number;
  /** Seconds since the job started. */
  elapsedSeconds: number;
  /** True on the last update. */
  finished: boolean;
}

/** A parse result: the payload, or why it cannot be shown. */
export type ParsedPayload = { ok: true; payload: ProgressPayload } | { ok: false; reason: string };

const COUNTS = ["total", "done", "failed", "running"] as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
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
  const counts: Partial<Record<(typeof COUNTS)[number], number>> = {};
  for (const key of COUNTS) {
    const value = data[key];
    if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
      return { ok: false, reason: `"${key}" must be a non-negative integer, got ${describe(value)}` };
    }
    counts[key] = value;
  }
  if (typeof elapsedSeconds !== "number" || !Number.isFinite(elapsedSeconds) || elapsedSeconds < 0) {
    return { ok: false, reason: `"elapsedSeconds" must be a non-negative number, got ${describe(elapsedSeconds)}` };
  }
  if (typeof finished !== "boolean") {
    return { ok: false, reason: `"finished" must be true or false, got ${describe(finished)}` };
  }
  const { total = 0, done = 0, failed = 0, running = 0 } = counts;
  if (done + failed > total) {
    return { ok: false, reason: `done (${done}) + failed (${failed}) exceeds total (${total})` };
  }
  return { ok: true, payload: { version, jobId, label, total, done, failed, running, elapsedSeconds, finished } };
}

function describe(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** `3.2 s`, `1 min 05 s`, `2 h 03 min`. */
export function formatElapsed(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.floor(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, "0")} s`;
  return `${Math.floor(whole / 3600)} h ${String(Math.floor((whole % 3600) / 60)).padStart(2, "0")} min`;
}
