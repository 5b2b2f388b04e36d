/**
 * Render a Vega-Lite spec to SVG in Node (no canvas, no browser): vega-lite compiles it to Vega,
 * a headless Vega view (`renderer: "none"`) writes the SVG. vega is loaded on first use only.
 * Vega tags the data objects it ingests, so it gets a copy: the caller's spec stays plain JSON.
 */
import type { VegaLiteSpec } from "./plot-specs.js";

/**
 * @param spec - a Vega-Lite spec with inline data
 * @returns the SVG document
 */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const [vega, vegaLite] = await Promise.all([import("vega"), import("vega-lite")]);
  const compiled = vegaLite.compile(structuredClone(spec) as unknown as Parameters<typeof vegaLite.compile>[0]).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
