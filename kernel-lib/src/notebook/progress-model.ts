/**
 * The notebook progress output: the MIME bundle sent for each update of a job's display. It
 * carries the `application/vnd.tswren.progress+json` payload (declared once in
 * progress/payload.ts, read by the JupyterLab renderer in `extension/`), `text/html` (a
 * `<progress>` bar that renders anywhere: JupyterLab without the extension, VS Code, exported
 * HTML) and `text/plain`, built by `progressBundle` (progress/payload.ts, which the extension
 * also uses to rewrite a stopped bar). Documented in docs/notebook-progress.md.
 */
export { formatElapsed, PROGRESS_MIME, PROGRESS_PAYLOAD_VERSION, progressBundle, type ProgressBundle, type ProgressPayload } from "../progress/payload.js";

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
