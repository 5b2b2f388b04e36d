import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTslabHarness, type TslabHarness } from "../fixtures/tslab-harness.js";
import { tempDir } from "../helpers/executor.js";

// Runs notebooks/quickstart.ipynb top to bottom through the real tslab 1.0.22 compiler and
// executor (in this process, as the kernel does) on the embedded default backend.

interface Notebook {
  cells: Array<{ cell_type: string; source: string[] }>;
}

const repo = path.resolve(import.meta.dirname, "../..");
const notebook = JSON.parse(readFileSync(path.join(repo, "notebooks/quickstart.ipynb"), "utf8")) as Notebook;
const root = tempDir("quickstart");
let nb: TslabHarness;
const printed: string[] = [];
const cwd = process.cwd();

beforeAll(async () => {
  process.chdir(path.join(repo, "notebooks")); // as the kernel runs: fx.plot writes notebooks/plots/
  process.env["TSWREN_CONFIG"] = JSON.stringify({ localhost_storage: { storage_root: root } });
  nb = createTslabHarness(path.join(repo, "notebooks"));
  for (const cell of notebook.cells.filter((c) => c.cell_type === "code")) printed.push(...(await nb.run(cell.source.join(""))));
}, 120_000);

afterAll(() => {
  process.chdir(cwd);
  delete process.env["TSWREN_CONFIG"];
  nb.close();
});

describe("notebooks/quickstart.ipynb", () => {
  it("gives the classic results: map [8, 9, 10, 11], callAsync 10, mapReduce 38", () => {
    expect(nb.locals["mapped"]).toEqual([8, 9, 10, 11]);
    expect(nb.locals["single"]).toBe(10);
    expect(nb.locals["reduced"]).toBe(38);
  });

  it("estimates pi with a helper and a constant from earlier cells, and shows a call's log and stats", () => {
    expect(Math.abs((nb.locals["pi"] as number) - Math.PI)).toBeLessThan(0.05);
    expect(nb.locals["firstLog"]).toBe("call 0 estimating with 200000 samples");
    const stats = nb.locals["firstStats"] as { workerFuncStartMs: number; workerFuncEndMs: number };
    expect(stats.workerFuncEndMs).toBeGreaterThanOrEqual(stats.workerFuncStartMs);
    expect(printed[0]).toMatch(/localhost: \d+ worker processes/);
  });

  it("plots the pi job to notebooks/plots/quickstart_{timeline,histogram}.svg", () => {
    const files = (nb.locals["plotted"] as { files: { timeline: string; histogram: string } }).files;
    expect(files).toEqual({ timeline: path.join(repo, "notebooks/plots/quickstart_timeline.svg"), histogram: path.join(repo, "notebooks/plots/quickstart_histogram.svg") });
    expect(readFileSync(files.timeline, "utf8")).toContain("seconds since job start");
  });

  it("returns null for the failed call with throwExcept: false", () => {
    expect(nb.locals["partial"]).toEqual([1, null, 3]);
  });
});
