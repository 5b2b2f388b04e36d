/**
 * The notebook progress payload (`application/vnd.tswren.progress+json`), declared once: the
 * library builds it (notebook/progress-model.ts) and the JupyterLab extension reads it (importing
 * this module from `tswren/progress-payload`). This module imports nothing, so the extension's
 * browser bundle can take it as is. Documented in docs/notebook-progress.md.
 */

/** MIME type of the progress payload. */
export const PROGRESS_MIME = "application/vnd.tswren.progress+json";

/**
 * Version of {@link ProgressPayload}; bumped on an incompatible change. Version 2 added
 * `cancelled` (version 1 counted cancelled calls as failed) and `stopped`.
 */
export const PROGRESS_PAYLOAD_VERSION = 2;

/**
 * The progress of one job, as shown by one display (updated in place).
 * @example
 * {"version":2,"jobId":"M000","label":"map double, 100 calls","total":100,"done":40,"failed":1,"cancelled":0,"running":8,"elapsedSeconds":3.2,"finished":false}
 */
export interface ProgressPayload {
  /** Always {@link PROGRESS_PAYLOAD_VERSION}. */
  version: 2;
  /** The job, e.g. `M000` (map), `A001` (callAsync), `R002` (reduce). */
  jobId: string;
  /** What the job is, for people: the kind, the function's name and the size, e.g. `map double, 200 calls`. */
  label: string;
  /** Calls in the job. */
  total: number;
  /** Calls that succeeded. */
  done: number;
  /** Calls that failed (an error, a timeout, a crash). */
  failed: number;
  /** Calls that were cancelled (an interrupt, `fx.cancel`, a signal): not failures. */
  cancelled: number;
  /** Calls running on a worker right now. */
  running: number;
  /** Seconds since the job was created (one decimal). */
  elapsedSeconds: number;
  /** True on the last update of the display (every call ended, or the display was stopped). */
  finished: boolean;
  /** Why the display stopped before every call ended (e.g. `kernel shut down`); absent otherwise. */
  stopped?: string;
}

/** The payload of version 1 (no `cancelled`: cancelled calls were counted in `failed`; no `stopped`). */
export type ProgressPayloadV1 = Omit<ProgressPayload, "version" | "cancelled" | "stopped"> & { version: 1 };

/**
 * `3.2 s`, `2 min 05 s`, `2 h 03 min`.
 * @param seconds - a duration in seconds
 * @returns the duration for people
 */
export function formatElapsed(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.floor(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, "0")} s`;
  return `${Math.floor(whole / 3600)} h ${String(Math.floor((whole % 3600) / 60)).padStart(2, "0")} min`;
}

/**
 * One line for people: `40/100 calls ended: 39 done, 1 failed, 0 cancelled, 8 running | 3.2 s`.
 * @param p - a payload
 * @returns the summary the text and HTML fallbacks show
 */
export function progressSummary(p: ProgressPayload): string {
  const ended = p.done + p.failed + p.cancelled;
  const cancelled = p.cancelled > 0 ? `, cancelled (${p.cancelled})` : "";
  const state = p.stopped !== undefined ? `stopped: ${p.stopped}` : p.finished ? "finished" : `${p.running} running`;
  return `${ended}/${p.total} calls ended: ${p.done} done, ${p.failed} failed${cancelled}, ${state} | ${formatElapsed(p.elapsedSeconds)}`;
}

/** A display's MIME bundle: the payload plus HTML and plain-text renderings of it. */
export type ProgressBundle = {
  [PROGRESS_MIME]: ProgressPayload;
  "text/html": string;
  "text/plain": string;
};

function textBar(p: ProgressPayload, width = 30): string {
  const ended = p.done + p.failed + p.cancelled;
  const filled = p.total === 0 ? width : Math.round((ended / p.total) * width);
  return `${"#".repeat(filled)}${"-".repeat(width - filled)}`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The bar's colour: red with failures, grey when cancelled or stopped, else the browser's. */
function accent(p: ProgressPayload): string {
  if (p.failed > 0) return "accent-color:#c62828;";
  if (p.cancelled > 0 || p.stopped !== undefined) return "accent-color:#9e9e9e;";
  return "";
}

/**
 * The MIME bundle of one progress update.
 * @param payload - the job's progress
 * @returns the bundle (payload, HTML with a `<progress>` bar, plain text)
 */
export function progressBundle(payload: ProgressPayload): ProgressBundle {
  const title = `tswren ${payload.label} (${payload.jobId})`;
  const html =
    `<div class="tswren-progress" style="font-family:monospace;font-size:12px">` +
    `<b>${escapeHtml(title)}</b> ` +
    `<progress value="${payload.done + payload.failed + payload.cancelled}" max="${payload.total}" style="${accent(payload)}width:240px;vertical-align:middle"></progress> ` +
    `<span>${escapeHtml(progressSummary(payload))}</span></div>`;
  return {
    [PROGRESS_MIME]: payload,
    "text/html": html,
    "text/plain": `${title} [${textBar(payload)}] ${progressSummary(payload)}`,
  };
}
