/**
 * `showVegaLite(spec)`: display any Vega-Lite spec in the running notebook cell as one MIME bundle
 * with fallbacks, the way `fx.plot` shows its charts: `application/vnd.vegalite.v5+json` (drawn by
 * JupyterLab, Notebook 7 and VS Code), `image/svg+xml` rendered in Node (kept by exported HTML,
 * GitHub and front ends without Vega-Lite) and `text/plain` (terminals, nbclient logs).
 */
import { inspect } from "node:util";
import { ErrorCodes, TswrenError } from "../errors.js";
import { notebookSink } from "../notebook/display.js";
import type { VegaLiteSpec } from "./plot-specs.js";
import { renderSvg } from "./render-svg.js";

/** MIME type of inline Vega-Lite charts (JupyterLab has no v6 type; vega-lite 6 reads v5 specs). */
export const VEGA_LITE_MIME = "application/vnd.vegalite.v5+json";

/**
 * Inline displays carry the SVG too (for front ends without Vega-Lite, e.g. exported HTML) when
 * it is at most this big; a 10,000-call timeline is ~15 MB of SVG, too much for a notebook file.
 */
export const INLINE_SVG_MAX_CHARS = 2 << 20;

/** Options of {@link showVegaLite}. */
export interface ShowChartOptions {
  /** The `text/plain` fallback (default: the spec's title, or `Vega-Lite chart`). */
  text?: string;
  /** Show it in the running notebook cell (default true; outside a notebook nothing is shown). */
  display?: boolean;
}

/** What {@link showVegaLite} rendered. */
export interface ChartDisplay {
  /** The chart as an SVG document (the fallback the display carries). */
  svg: string;
  /** The `text/plain` fallback. */
  text: string;
  /** Whether a notebook display was made. */
  shown: boolean;
}

/**
 * The MIME bundle of one chart: Vega-Lite, the SVG when not too big, and text.
 * @param spec - the Vega-Lite spec
 * @param svg - its SVG rendering
 * @param text - the plain-text fallback
 */
export function chartBundle(spec: VegaLiteSpec, svg: string, text: string): Record<string, unknown> {
  return { [VEGA_LITE_MIME]: spec, ...(svg.length <= INLINE_SVG_MAX_CHARS ? { "image/svg+xml": svg } : {}), "text/plain": text };
}

/** The spec's title as text (`title: "..."` or `title: { text: "..." | [...] }`), if any. */
export function specTitle(spec: VegaLiteSpec): string | undefined {
  const title = spec["title"];
  const text = typeof title === "object" && title !== null && !Array.isArray(title) ? (title as { text?: unknown }).text : title;
  if (typeof text === "string" && text !== "") return text;
  if (Array.isArray(text) && text.every((t) => typeof t === "string")) return text.join(" ");
  return undefined;
}

function checkSpec(spec: unknown): asserts spec is VegaLiteSpec {
  if (typeof spec !== "object" || spec === null || Array.isArray(spec)) {
    throw new TswrenError(ErrorCodes.BAD_INPUT, `showVegaLite: the spec must be a Vega-Lite object ({ data, mark, encoding, ... }); got ${Array.isArray(spec) ? "an array" : typeof spec}`);
  }
  try {
    JSON.stringify(spec);
  } catch (err) {
    throw new TswrenError(ErrorCodes.BAD_INPUT, `showVegaLite: the spec must be plain JSON (it is saved in the notebook): ${(err as Error).message}`, { cause: err });
  }
}

async function svgOf(spec: VegaLiteSpec): Promise<string> {
  try {
    return await renderSvg(spec);
  } catch (err) {
    throw new TswrenError(
      ErrorCodes.BAD_INPUT,
      `showVegaLite: Vega-Lite cannot draw this spec: ${(err as Error).message}; check it in the Vega editor (https://vega.github.io/editor/)`,
      { cause: err },
    );
  }
}

/**
 * Display a Vega-Lite v5 spec in the running notebook cell with SVG and text fallbacks, so the
 * chart also appears in exported HTML, on GitHub and in front ends without a Vega-Lite renderer.
 * The spec needs inline data (`data: { values: [...] }`) for the SVG to show it.
 * As a cell's last expression the result prints nothing when the chart was shown.
 * @param spec - a Vega-Lite spec (plain JSON)
 * @param options - the text fallback; `display: false` only renders
 * @returns the SVG, the text and whether it was shown
 * @throws TswrenError `TSWREN_BAD_INPUT` when the spec is not an object, not JSON, or does not compile
 * @example
 * await showVegaLite({
 *   title: "squares",
 *   data: { values: [1, 2, 3].map((x) => ({ x, y: x * x })) },
 *   mark: "line",
 *   encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
 * });
 */
export async function showVegaLite(spec: VegaLiteSpec, options: ShowChartOptions = {}): Promise<ChartDisplay> {
  checkSpec(spec);
  if (options.text !== undefined && typeof options.text !== "string") {
    throw new TswrenError(ErrorCodes.BAD_OPTION, `showVegaLite: options.text must be a string; got ${typeof options.text}`);
  }
  const svg = await svgOf(spec);
  const text = options.text ?? specTitle(spec) ?? "Vega-Lite chart";
  const sink = options.display === false ? undefined : notebookSink();
  sink?.show(chartBundle(spec, svg, text));
  const result: ChartDisplay = { svg, text, shown: sink !== undefined };
  const summary = sink ? "" : `${text} (Vega-Lite chart, ${svg.length} characters of SVG; not shown: not in a notebook)`;
  Object.defineProperty(result, inspect.custom, { value: () => summary, enumerable: false });
  return result;
}
