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
    mark: { type: "point", filled: true, size: 24, opacity: 0.8 },
    encoding: {
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

/**
 * Concurrency: one grey bar per call from function start to function end (left axis: call) and
 * a line of calls running over time (right axis).
 * @param data - from `plotData(futures)`
 * @param title - chart title
 */
export function concurrencySpec(data: PlotData, title: string): VegaLiteSpec {
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: `${title}: calls running`,
    width: WIDTH,
    height: HEIGHT,
    background: "white",
    layer: [
      {
        data: { values: data.spans },
        mark: { type: "rule", color: "#9e9e9e", strokeWidth: 3 },
        encoding: {
          x: { field: "startSeconds", type: "quantitative", axis: SECONDS_AXIS },
          x2: { field: "endSeconds" },
          y: { field: "call", type: "quantitative", title: "call", axis: { tickMinStep: 1 } },
          tooltip: [
            { field: "callId", type: "nominal", title: "call" },
            { field: "startSeconds", type: "quantitative", title: "function start", format: ".3f" },
            { field: "endSeconds", type: "quantitative", title: "function end", format: ".3f" },
            { field: "status", type: "nominal" },
          ],
        },
      },
      {
        data: { values: data.running },
        mark: { type: "line", interpolate: "step-after", color: "#1565c0", strokeWidth: 2 },
        encoding: {
          x: { field: "seconds", type: "quantitative", axis: SECONDS_AXIS },
          y: { field: "running", type: "quantitative", title: "calls running", axis: { orient: "right", tickMinStep: 1, titleColor: "#1565c0" } },
        },
      },
    ],
    resolve: { scale: { y: "independent" } },
  };
}
