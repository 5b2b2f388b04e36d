/**
 * The notebook progress output: the `application/vnd.tswren.progress+json` payload (shared by
 * type with the JupyterLab renderer in `extension/`) and the MIME bundle sent for each update,
 * which also carries `text/html` (a `<progress>` bar that renders anywhere: JupyterLab without
 * the extension, VS Code, exported HTML) and `text/plain`. Documented in docs/notebook-progress.md.
 */

/** MIME type of the progress payload. */
export const PROGRESS_MIME = "application/vnd.tswren.progress+json";

/** Version of {@link ProgressPayload}; bumped on an incompatible change. */
export const PROGRESS_PAYLOAD_VERSION = 1;

/**
 * The progress of one job, as shown by one display (updated in place).
 * @example
 * {"version":1,"jobId":"M000","label":"map","total":100,"done":40,"failed":1,"running":8,"elapsedSeconds":3.2,"finished":false}
 */
export interface ProgressPayload {
  /** Always {@link PROGRESS_PAYLOAD_VERSION}. */
  version: 1;
  /** The job, e.g. `M000` (map), `A001` (callAsync), `R002` (reduce). */
  jobId: string;
  /** What the job is, for people: `map`, `callAsync` or `reduce`. */
  label: string;
  /** Calls in the job. */
  total: number;
  /** Calls that succeeded. */
  done: number;
  /** Calls that failed or were cancelled. */
  failed: number;
  /** Calls running on a worker right now. */
  running: number;
  /** Seconds since the job was created (one decimal). */
  elapsedSeconds: number;
  /** True on the last update of the display (every call ended, or the wait ended). */
  finished: boolean;
}

/** A display's MIME bundle: the payload plus HTML and plain-text renderings of it. */
export type ProgressBundle = {
  [PROGRESS_MIME]: ProgressPayload;
  "text/html": string;
  "text/plain": string;
};

/** Human label of a job from its id's letter (`M000` -> `map`). */
export function jobLabel(jobId: string): string {
  switch (jobId[0]) {
    case "A":
      return "callAsync";
    case "R":
      return "reduce";
    default:
      return "map";
  }
}

/** `3.2 s`, `2 min 05 s`. */
export function formatElapsed(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const whole = Math.floor(seconds);
  return `${Math.floor(whole / 60)} min ${String(whole % 60).padStart(2, "0")} s`;
}

function summary(p: ProgressPayload): string {
  const ended = p.done + p.failed;
  const state = p.finished ? "finished" : `${p.running} running`;
  return `${ended}/${p.total} calls ended: ${p.done} done, ${p.failed} failed, ${state} | ${formatElapsed(p.elapsedSeconds)}`;
}

function textBar(p: ProgressPayload, width = 30): string {
  const filled = p.total === 0 ? width : Math.round(((p.done + p.failed) / p.total) * width);
  return `${"#".repeat(filled)}${"-".repeat(width - filled)}`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The MIME bundle of one progress update.
 * @param payload - the job's progress
 * @returns the bundle (payload, HTML with a `<progress>` bar, plain text)
 */
export function progressBundle(payload: ProgressPayload): ProgressBundle {
  const title = `tswren ${payload.label} ${payload.jobId}`;
  const failed = payload.failed > 0 ? ' style="accent-color:#c62828"' : "";
  const html =
    `<div class="tswren-progress" style="font-family:monospace;font-size:12px">` +
    `<b>${escapeHtml(title)}</b> ` +
    `<progress value="${payload.done + payload.failed}" max="${payload.total}"${failed} style="width:240px;vertical-align:middle"></progress> ` +
    `<span>${escapeHtml(summary(payload))}</span></div>`;
  return {
    [PROGRESS_MIME]: payload,
    "text/html": html,
    "text/plain": `${title} [${textBar(payload)}] ${summary(payload)}`,
  };
}
