import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { compile } from "vega-lite";
import { binWidthSeconds, plotData, runningBins, runningSteps, type CallSpan } from "../../kernel-lib/src/plot/plot-data.js";
import { binLabel, concurrencySpec, timelineSpec } from "../../kernel-lib/src/plot/plot-specs.js";
import { renderSvg } from "../../kernel-lib/src/plot/render-svg.js";
import { plotFutures } from "../../kernel-lib/src/plot/plot.js";
import { caught } from "../helpers/caught.js";
import { tempDir } from "../helpers/executor.js";
import { endFuture, jobFutures } from "../helpers/futures.js";

const T0 = 1_700_000_000_000;

/** Three calls: two ran from 1.0-3.0 s and 2.0-4.5 s, the third failed at 2.5-2.5 s; results read at 5 s. */
function finishedJob(): ReturnType<typeof jobFutures> {
  vi.useFakeTimers({ now: T0 + 5000, toFake: ["Date"] });
  const futures = jobFutures("M000", 3, T0);
  const runs = [[1000, 3000], [2000, 4500], [2500, 2500]];
  futures.forEach((f, i) => {
    f.markInvoked(T0 + 500 + i, 1);
    f.markRunning(T0 + runs[i][0] - 100);
    endFuture(f, i !== 2, { workerFuncStartMs: T0 + runs[i][0], workerFuncEndMs: T0 + runs[i][1] }, T0 + runs[i][1] + 200);
  });
  vi.useRealTimers();
  return futures;
}

describe("plot data", () => {
  it("puts each call's submit, function start/end, status and result fetched in seconds since job creation", () => {
    const data = plotData(finishedJob());
    const call0 = data.timeline.filter((p) => p.call === 0);
    expect(call0.map((p) => [p.event, p.seconds])).toEqual([
      ["submit", 0.5],
      ["function start", 1],
      ["function end", 3],
      ["status fetched", 3.2],
      ["result fetched", 5],
    ]);
    expect(call0[0]).toMatchObject({ callId: "abc123-0-M000/00000", status: "success" });
    expect(data.timeline.find((p) => p.call === 2)?.status).toBe("error");
    expect(data.spans.map((s) => [s.startSeconds, s.endSeconds])).toEqual([[1, 3], [2, 4.5], [2.5, 2.5]]);
  });

  it("counts calls running over time exactly, as steps", () => {
    expect(runningSteps(plotData(finishedJob()).spans)).toEqual([
      { seconds: 0, running: 0 },
      { seconds: 1, running: 1 },
      { seconds: 2, running: 2 },
      { seconds: 2.5, running: 2 },
      { seconds: 3, running: 1 },
      { seconds: 4.5, running: 0 },
    ]);
  });
});

describe("plot specs", () => {
  it("are Vega-Lite v5 specs with inline data that vega-lite compiles", () => {
    const data = plotData(finishedJob());
    const timeline = timelineSpec(data, "job");
    const histogram = concurrencySpec(data, "job");
    for (const spec of [timeline, histogram]) {
      expect(spec["$schema"]).toBe("https://vega.github.io/schema/vega-lite/v5.json");
      expect(() => compile(spec as never)).not.toThrow();
    }
    expect((timeline["data"] as { values: unknown[] }).values).toHaveLength(15);
    const layers = histogram["layer"] as Array<{ mark: { type: string }; data: { values: unknown[] } }>;
    // 0-4.5 s in 50 ms bins: 90 bins of mean calls running, then one rule per call
    expect(layers.map((l) => [l.mark.type, l.data.values.length])).toEqual([["rect", 90], ["rule", 3]]);
  });

  it("draws function start and end above the host's status and result fetches on the timeline", async () => {
    const svg = await renderSvg(timelineSpec(plotData(finishedJob()), "job"));
    const drawn = [...svg.matchAll(/aria-label="[^"]*event: ([a-z ]+);/g)].map((m) => m[1]);
    expect(drawn).toHaveLength(15);
    const last = (e: string): number => drawn.lastIndexOf(e);
    const first = (e: string): number => drawn.indexOf(e);
    expect(last("result fetched")).toBeLessThan(first("function end"));
    expect(last("status fetched")).toBeLessThan(first("function end"));
    expect(last("function start")).toBeLessThan(first("function end"));
  });

  it("keeps the calls-running steps inside their axis: the right axis ends above the highest step", () => {
    const spec = concurrencySpec(plotData(finishedJob()), "job");
    const bins = (spec["layer"] as Array<{ encoding: { y: { title: string; scale?: { domain: number[] } } } }>)[0].encoding.y;
    expect(bins.title).toBe("calls running (mean per 50 ms)");
    expect(bins.scale?.domain).toEqual([0, 3]); // peak 2 calls
  });
});

describe("calls running, averaged per bin", () => {
  /** `n` calls of `ms` each, back to back on `workers` workers from 0.1 s. */
  function shortCalls(n: number, ms: number, workers: number): CallSpan[] {
    return Array.from({ length: n }, (_, i) => {
      const slot = Math.floor(i / workers);
      const start = 0.1 + (slot * ms) / 1000;
      return { call: i, callId: `c/${i}`, startSeconds: start, endSeconds: start + ms / 1000, status: "success" };
    });
  }

  it("pick a 1-2-5 bin width giving at most 100 bins, never under 1 ms", () => {
    expect(binWidthSeconds(4.5)).toBe(0.05);
    expect(binWidthSeconds(1.2)).toBe(0.02);
    expect(binWidthSeconds(100)).toBe(1);
    expect(binWidthSeconds(0.01)).toBe(0.001);
    expect(binLabel(0.02)).toBe("20 ms");
    expect(binLabel(2)).toBe("2 s");
  });

  it("show 200 calls of 5 ms on 2 workers as a level of 2 calls running, not a barcode of spikes", () => {
    const spans = shortCalls(200, 5, 2); // busy from 0.1 s to 0.6 s
    const width = binWidthSeconds(0.6);
    const bins = runningBins(spans, width);
    expect(width).toBe(0.01);
    expect(bins).toHaveLength(60);
    expect(bins.slice(0, 10).every((b) => b.running === 0)).toBe(true);
    expect(bins.slice(10).every((b) => Math.abs(b.running - 2) < 0.01)).toBe(true);
    // the exact steps of the same calls jump 0-2-0... at every start and end instead
    expect(runningSteps(spans).length).toBeGreaterThan(100);
  });

  it("count a call running for part of a bin by the share of the bin it ran", () => {
    const bins = runningBins([{ call: 0, callId: "c/0", startSeconds: 0.25, endSeconds: 1.5, status: "success" }], 1);
    expect(bins).toEqual([
      { seconds: 0, endSeconds: 1, running: 0.75 },
      { seconds: 1, endSeconds: 2, running: 0.5 },
    ]);
    expect(runningBins([], 1)).toEqual([]);
  });

  it("writes <dir>/<name>_timeline.svg and <dir>/<name>_histogram.svg", async () => {
    const dir = path.join(tempDir("plot"), "nested", "plots");
    const result = await plotFutures(finishedJob(), { dir, name: "run1", display: false });
    expect(result.files).toEqual({ timeline: path.join(dir, "run1_timeline.svg"), histogram: path.join(dir, "run1_histogram.svg") });
    const svg = readFileSync(result.files.timeline, "utf8");
    expect(svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toContain("seconds since job start");
    expect(svg).toContain("function start");
    expect(readFileSync(result.files.histogram, "utf8")).toContain("calls running");
    expect(result.timeline).toEqual(timelineSpec(plotData(finishedJob()), "map, 3 calls"));
  });

  it("rejects an empty list and a name that is not a file name, writing nothing", async () => {
    const dir = path.join(tempDir("plot-bad"), "p");
    expect((await caught(plotFutures([], { dir }))).code).toBe("TSWREN_BAD_INPUT");
    const err = await caught(plotFutures(finishedJob(), { dir, name: "../x" }));
    expect(err.code).toBe("TSWREN_BAD_OPTION");
    expect(err.message).toMatch(/name must be/);
    expect(existsSync(dir)).toBe(false);
  });
});

describe("plot titles and printing", () => {
  it("names the job by kind, function name and size, and prints a one-line summary instead of the specs", async () => {
    const { nameJob } = await import("../../kernel-lib/src/progress/job-names.js");
    const { inspect } = await import("node:util");
    const futures = finishedJob();
    nameJob(futures[0].executorId, futures[0].jobId, "double");
    const dir = tempDir("plot-title");
    const result = await plotFutures(futures, { dir, name: "titled", display: false });
    expect(result.timeline["title"]).toBe("map double, 3 calls: timeline");
    expect(result.histogram["title"]).toBe("map double, 3 calls: calls running");
    const printed = inspect(result);
    expect(printed).not.toContain("$schema");
    expect(printed).toBe(`map double, 3 calls: ${result.files.timeline}, ${result.files.histogram}`);
    expect(Object.keys(result)).toEqual(["timeline", "histogram", "files"]);
  });
});
