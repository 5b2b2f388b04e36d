/**
 * The two execution charts as Vega-Lite v5 specs (`application/vnd.vegalite.v5+json`, rendered
 * natively by JupyterLab and VS Code, and to SVG in Node by render-svg.ts).
 */
import { TIMELINE_EVENTS, type PlotData } from "./plot-data.js";

/** A Vega-Lite specification (plain JSON). */
export type VegaLiteSpec = Record<string, unknown>;

/** `$schema` of the specs. */
export const VEGA_LITE_SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json";

const WIDTH = 640;
const HEIGHT = 320;
const SECONDS_AXIS = { title: "seconds since job start" };

/**
 * Drawing order of the timeline's events, bottom first: host-side fetches are drawn under the
 * worker's function start and end, so "function end" stays visible when "result fetched" follows
 * it within a pixel (the usual case on fast backends).
 */
export const TIMELINE_DRAW_ORDER = ["result fetched", "status fetched", "submit", "function start", "function end"] as const;

/**
 * Timeline: per call, a point for each of submit, function start, function end, status fetched
 * and result fetched; the shape shows the call's final state.
 * @param data - from `plotData(futures)`
 * @param title - chart title
 */
export function timelineSpec(data: PlotData, title: string): VegaLiteSpec {
  const events = TIMELINE_EVENTS.map(([event]) => event);
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: `${title}: timeline`,
    width: WIDTH,
    height: HEIGHT,
    background: "white",
    data: { values: data.timeline },
    transform: [{ calculate: `indexof(${JSON.stringify(TIMELINE_DRAW_ORDER)}, datum.event)`, as: "drawOrder" }],
    mark: { type: "point", filled: true, size: 24, opacity: 0.8 },
    encoding: {
      order: { field: "drawOrder", type: "quantitative" },
      x: { field: "seconds", type: "quantitative", axis: SECONDS_AXIS },
      y: { field: "call", type: "quantitative", title: "call", axis: { tickMinStep: 1 } },
      color: { field: "event", type: "nominal", title: "event", scale: { domain: events }, sort: events },
      shape: { field: "status", type: "nominal", title: "status" },
      tooltip: [
        { field: "callId", type: "nominal", title: "call" },
        { field: "event", type: "nominal" },
        { field: "seconds", type: "quantitative", format: ".3f" },
        { field: "status", type: "nominal" },
      ],
    },
  };
}

/** `0.02` -> `20 ms`, `1` -> `1 s`. */
export function binLabel(seconds: number): string {
  return seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${Number(seconds.toPrecision(3))} s`;
}

/**
 * Concurrency: one grey bar per call from function start to function end (left axis: call) over
 * blue steps of the mean number of calls running per time bin (right axis), so short calls read
 * as a level, not a barcode. The right axis ends above the highest step: the steps stay inside it.
 * @param data - from `plotData(futures)`
 * @param title - chart title
 */
export function concurrencySpec(data: PlotData, title: string): VegaLiteSpec {
  const peak = data.runningBins.reduce((m, b) => Math.max(m, b.running), 0);
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: `${title}: calls running`,
    width: WIDTH,
    height: HEIGHT,
    background: "white",
    layer: [
      {
        data: { values: data.runningBins },
        mark: { type: "rect", color: "#1565c0", opacity: 0.35, clip: true },
        encoding: {
          x: { field: "seconds", type: "quantitative", axis: SECONDS_AXIS },
          x2: { field: "endSeconds" },
          y: {
            field: "running",
            type: "quantitative",
            title: `calls running (mean per ${binLabel(data.binSeconds)})`,
            scale: { domain: [0, Math.max(1, Math.ceil(peak * 1.1))], nice: false },
            axis: { orient: "right", tickMinStep: 1, titleColor: "#1565c0" },
          },
          y2: { datum: 0 },
          tooltip: [
            { field: "seconds", type: "quantitative", title: "from (s)", format: ".3f" },
            { field: "endSeconds", type: "quantitative", title: "to (s)", format: ".3f" },
            { field: "running", type: "quantitative", title: "calls running (mean)", format: ".2f" },
          ],
        },
      },
      {
        data: { values: data.spans },
        mark: { type: "rule", color: "#616161", strokeWidth: 2 },
        encoding: {
          x: { field: "startSeconds", type: "quantitative", axis: SECONDS_AXIS },
          x2: { field: "endSeconds" },
          y: { field: "call", type: "quantitative", title: "call", axis: { orient: "left", tickMinStep: 1 } },
          tooltip: [
            { field: "callId", type: "nominal", title: "call" },
            { field: "startSeconds", type: "quantitative", title: "function start", format: ".3f" },
            { field: "endSeconds", type: "quantitative", title: "function end", format: ".3f" },
            { field: "status", type: "nominal" },
          ],
        },
      },
    ],
    resolve: { scale: { y: "independent" } },
  };
}
