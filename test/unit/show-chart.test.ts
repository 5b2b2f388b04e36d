import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { chartBundle, INLINE_SVG_MAX_CHARS, showVegaLite, specTitle, VEGA_LITE_MIME } from "../../kernel-lib/src/plot/show-chart.js";
import type { VegaLiteSpec } from "../../kernel-lib/src/plot/plot-specs.js";
import { caught } from "../helpers/caught.js";

const bars: VegaLiteSpec = {
  $schema: "https://vega.github.io/schema/vega-lite/v5.json",
  title: { text: "forecasts & prices" },
  data: { values: [{ price: 90, count: 3 }, { price: 110, count: 7 }] },
  mark: "bar",
  encoding: { x: { field: "price", type: "ordinal" }, y: { field: "count", type: "quantitative" } },
};

describe("showVegaLite outside a notebook", () => {
  it("renders the spec to SVG with its title, shows nothing and prints one line", async () => {
    const chart = await showVegaLite(bars);
    expect(chart.shown).toBe(false);
    expect(chart.svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(chart.svg).toContain("forecasts &amp; prices");
    expect(chart.text).toBe("forecasts & prices");
    expect(inspect(chart)).toMatch(/^forecasts & prices \(Vega-Lite chart, \d+ characters of SVG; not shown: not in a notebook\)$/);
    expect(bars["data"]).toEqual({ values: [{ price: 90, count: 3 }, { price: 110, count: 7 }] }); // not tagged by vega
  });

  it("uses options.text as the text fallback, and a default when the spec has no title", async () => {
    expect((await showVegaLite(bars, { text: "histogram of prices" })).text).toBe("histogram of prices");
    const untitled = Object.fromEntries(Object.entries(bars).filter(([key]) => key !== "title"));
    expect((await showVegaLite(untitled)).text).toBe("Vega-Lite chart");
  });

  it("rejects what is not a drawable Vega-Lite spec with a coded error naming the fix", async () => {
    const notObject = await caught(showVegaLite([1, 2] as unknown as VegaLiteSpec));
    expect(notObject.code).toBe("TSWREN_BAD_INPUT");
    expect(notObject.message).toMatch(/must be a Vega-Lite object.*got an array/);
    const circular: VegaLiteSpec = { mark: "bar" };
    circular["self"] = circular;
    expect((await caught(showVegaLite(circular))).message).toMatch(/must be plain JSON/);
    const broken = await caught(showVegaLite({ mark: "no-such-mark", data: { values: [] } }));
    expect(broken.code).toBe("TSWREN_BAD_INPUT");
    expect(broken.message).toMatch(/Vega-Lite cannot draw this spec: .*Vega editor/);
    expect((await caught(showVegaLite(bars, { text: 3 as unknown as string }))).code).toBe("TSWREN_BAD_OPTION");
  });
});

describe("chart bundles", () => {
  it("carry Vega-Lite, the SVG and text, in that order, and drop an SVG that is too big", () => {
    expect(Object.keys(chartBundle(bars, "<svg/>", "t"))).toEqual([VEGA_LITE_MIME, "image/svg+xml", "text/plain"]);
    expect(Object.keys(chartBundle(bars, "x".repeat(INLINE_SVG_MAX_CHARS + 1), "t"))).toEqual([VEGA_LITE_MIME, "text/plain"]);
  });

  it("read the title from a string, a title object or a list of lines", () => {
    expect(specTitle({ title: "a" })).toBe("a");
    expect(specTitle({ title: { text: ["a", "b"] } })).toBe("a b");
    expect(specTitle({ title: "" })).toBeUndefined();
    expect(specTitle({})).toBeUndefined();
  });
});
