import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it, vi } from "vitest";
import { compile } from "vega-lite";
import { plotData, runningSteps } from "../../kernel-lib/src/plot/plot-data.js";
import { concurrencySpec, timelineSpec } from "../../kernel-lib/src/plot/plot-specs.js";
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
    expect(layers.map((l) => [l.mark.type, l.data.values.length])).toEqual([["rule", 3], ["line", 6]]);
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
