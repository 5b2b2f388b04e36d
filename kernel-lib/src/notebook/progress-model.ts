/**
 * The notebook progress output: the MIME bundle sent for each update of a job's display. It
 * carries the `application/vnd.tswren.progress+json` payload (declared once in
 * progress/payload.ts, read by the JupyterLab renderer in `extension/`), `text/html` (a
 * `<progress>` bar that renders anywhere: JupyterLab without the extension, VS Code, exported
 * HTML) and `text/plain`. Documented in docs/notebook-progress.md.
 */
import { PROGRESS_MIME, progressSummary, type ProgressPayload } from "../progress/payload.js";

export { formatElapsed, PROGRESS_MIME, PROGRESS_PAYLOAD_VERSION, type ProgressPayload } from "../progress/payload.js";

/** A display's MIME bundle: the payload plus HTML and plain-text renderings of it. */
export type ProgressBundle = {
  [PROGRESS_MIME]: ProgressPayload;
  "text/html": string;
  "text/plain": string;
};

/** The kind of a job from its id's letter (`M000` -> `map`). */
export function jobKind(jobId: string): string {
  switch (jobId[0]) {
    case "A":
      return "callAsync";
    case "R":
      return "reduce";
    default:
      return "map";
  }
}

/**
 * A job's label for people: its kind, the function's name (or the `name` option) and its size.
 * @param jobId - the job (its letter gives the kind)
 * @param total - calls in the job
 * @param name - the function's name; omitted when unknown or anonymous
 * @returns e.g. `map double, 200 calls`, `callAsync, 1 call`
 */
export function jobLabel(jobId: string, total: number, name?: string): string {
  const what = name ? `${jobKind(jobId)} ${name}` : jobKind(jobId);
  return `${what}, ${total} call${total === 1 ? "" : "s"}`;
}

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
