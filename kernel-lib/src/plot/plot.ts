/**
 * `fx.plot(futures, { dir, name })`: the execution plots of calls. Builds the timeline and
 * concurrency charts (Vega-Lite v5), shows them inline when running in a notebook, and always
 * writes `<dir>/<name>_timeline.svg` and `<dir>/<name>_histogram.svg`.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { inspect } from "node:util";
import { ErrorCodes, TswrenError } from "../errors.js";
import type { ResponseFuture } from "../future.js";
import { notebookSink } from "../notebook/display.js";
import { jobLabel } from "../notebook/progress-model.js";
import { jobName } from "../progress/job-names.js";
import { plotData } from "./plot-data.js";
import { concurrencySpec, timelineSpec, type VegaLiteSpec } from "./plot-specs.js";
import { renderSvg } from "./render-svg.js";
import { chartBundle } from "./show-chart.js";

export { VEGA_LITE_MIME, INLINE_SVG_MAX_CHARS } from "./show-chart.js";

/** Options of `fx.plot`. */
export interface PlotOptions {
  /** Folder for the SVG files, created when missing; relative to the working directory (default `plots`). */
  dir?: string;
  /** File name prefix (default `<executorId>-<jobId>` of the first future); letters, digits, `.`, `_`, `-`. */
  name?: string;
  /** Show the charts inline when in a notebook (default true). */
  display?: boolean;
}

/** What `fx.plot` made. */
export interface PlotResult {
  /** Timeline: submit, function start/end, status and result fetched per call. */
  timeline: VegaLiteSpec;
  /** Concurrency: one bar per call and the number of calls running over time. */
  histogram: VegaLiteSpec;
  /** Absolute paths of the SVG files written. */
  files: { timeline: string; histogram: string };
}

function checkOptions(futures: readonly ResponseFuture[], options: PlotOptions): { dir: string; name: string } {
  if (futures.length === 0) throw new TswrenError(ErrorCodes.BAD_INPUT, "plot: no futures to plot; pass the futures of a map/callAsync/mapReduce, or submit a job first");
  const dir = options.dir ?? "plots";
  if (typeof dir !== "string" || dir === "") throw new TswrenError(ErrorCodes.BAD_OPTION, `plot: dir must be a non-empty folder path; got ${JSON.stringify(dir)}`);
  const first = futures[0];
  const name = options.name ?? `${first.executorId}-${first.jobId}`;
  if (typeof name !== "string" || !/^[\w.-]+$/.test(name)) {
    throw new TswrenError(ErrorCodes.BAD_OPTION, `plot: name must be letters, digits, ".", "_" or "-" (it prefixes the file names); got ${JSON.stringify(name)}`);
  }
  return { dir, name };
}

/**
 * Plot calls' execution (the stats taken so far: call it after the calls ended for full charts).
 * @param futures - the calls, in y-axis order
 * @param options - where to write the SVG files and whether to display inline
 * @returns the two specs and the SVG paths
 * @throws TswrenError `TSWREN_BAD_INPUT` with no futures, `TSWREN_BAD_OPTION` for a bad `dir` / `name`
 */
export async function plotFutures(futures: readonly ResponseFuture[], options: PlotOptions = {}): Promise<PlotResult> {
  const { dir, name } = checkOptions(futures, options);
  const data = plotData(futures);
  const title = plotTitle(futures);
  const timeline = timelineSpec(data, title);
  const histogram = concurrencySpec(data, title);
  const [timelineSvg, histogramSvg] = [await renderSvg(timeline), await renderSvg(histogram)];
  const folder = path.resolve(dir);
  await mkdir(folder, { recursive: true });
  const files = { timeline: path.join(folder, `${name}_timeline.svg`), histogram: path.join(folder, `${name}_histogram.svg`) };
  await Promise.all([writeFile(files.timeline, timelineSvg), writeFile(files.histogram, histogramSvg)]);
  const sink = options.display === false ? undefined : notebookSink();
  if (sink) {
    sink.show(chartBundle(timeline, timelineSvg, `${title}: timeline (${files.timeline})`));
    sink.show(chartBundle(histogram, histogramSvg, `${title}: calls running (${files.histogram})`));
  }
  const result = { timeline, histogram, files };
  // As a cell's last expression, the result prints one line (none when the charts were shown), not the specs.
  const summary = sink ? "" : `${title}: ${files.timeline}, ${files.histogram}`;
  Object.defineProperty(result, inspect.custom, { value: () => summary, enumerable: false });
  return result;
}

/**
 * The charts' title: each job plotted, by kind, name and size (`map double, 200 calls`).
 * @param futures - the calls plotted
 */
export function plotTitle(futures: readonly ResponseFuture[]): string {
  const jobs = new Map<string, ResponseFuture[]>();
  for (const f of futures) {
    const key = `${f.executorId}-${f.jobId}`;
    const list = jobs.get(key);
    if (list) list.push(f);
    else jobs.set(key, [f]);
  }
  return [...jobs.values()].map((list) => jobLabel(list[0].jobId, list.length, jobName(list[0].executorId, list[0].jobId))).join(" + ");
}
