import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTslabHarness, type TslabHarness } from "../fixtures/tslab-harness.js";
import { tempDir } from "../helpers/executor.js";

// The stock-tslab display path: cells run in the real tslab 1.0.22 executor (in this process), the
// library finds the kernel's own tslab/dist/jupyter.js and sends multi-MIME bundles through its
// `lastWriteDisplayData`, which the kernel sets per execute request (here: the test, recording
// what would go on IOPub).

interface DisplayMessage {
  msgType: "display_data" | "update_display_data";
  displayId: string;
  data: Record<string, unknown>;
}

interface TslabJupyter {
  lastWriteDisplayData: ((content: { data: Record<string, unknown>; transient: { display_id: string } }, update: boolean) => void) | null;
}

const req = createRequire(import.meta.url);
const PROGRESS = "application/vnd.tswren.progress+json";
const VEGA_LITE = "application/vnd.vegalite.v5+json";
const root = tempDir("tslab-display");
const plots = path.join(tempDir("tslab-display-plots"), "plots");
let nb: TslabHarness;
let jupyter: TslabJupyter;

/** Run a cell as the kernel would after an execute request: a new writer for this cell. */
async function runCell(src: string): Promise<DisplayMessage[]> {
  const sent: DisplayMessage[] = [];
  jupyter.lastWriteDisplayData = (content, update) => {
    sent.push({ msgType: update ? "update_display_data" : "display_data", displayId: content.transient.display_id, data: content.data });
  };
  await nb.run(src);
  return sent;
}

beforeAll(async () => {
  nb = createTslabHarness(process.cwd());
  jupyter = req("tslab/dist/jupyter.js") as TslabJupyter;
  await nb.run(
    [
      'import { functionExecutor } from "tswren";',
      `const fx = functionExecutor({ dataCleaner: false, config: { localhost_storage: { storage_root: ${JSON.stringify(root)} } } });`,
      "function pause(ms: number): number { const end = Date.now() + ms; while (Date.now() < end); return ms; }",
    ].join("\n"),
  );
});

afterAll(async () => {
  await nb.run("await fx.close();").catch(() => undefined);
  jupyter.lastWriteDisplayData = null;
  nb.close();
});

describe("notebook displays in stock tslab", () => {
  it("shows nothing before the kernel has an execute request (terminal mode)", async () => {
    jupyter.lastWriteDisplayData = null;
    await nb.run("const quiet = await fx.getResult(await fx.map((x: number) => x * 2, [1, 2]));");
    expect(nb.locals["quiet"]).toEqual([2, 4]);
  });

  it("shows one progress display per job in the waiting cell and updates it in place until finished", async () => {
    const sent = await runCell("const out = await fx.getResult(await fx.map((x: number) => pause(150 + 10 * x), [1, 2, 3, 4, 5, 6]));");
    expect(nb.locals["out"]).toEqual([160, 170, 180, 190, 200, 210]);
    expect(sent[0].msgType).toBe("display_data");
    expect(Object.keys(sent[0].data).sort()).toEqual([PROGRESS, "text/html", "text/plain"]);
    expect(sent[0].data[PROGRESS]).toMatchObject({ version: 2, jobId: "M001", label: "map, 6 calls", total: 6, cancelled: 0, finished: false });
    expect(sent.slice(1).every((m) => m.msgType === "update_display_data" && m.displayId === sent[0].displayId)).toBe(true);
    expect(sent.length).toBeGreaterThanOrEqual(2);
    expect(sent.at(-1)?.data[PROGRESS]).toMatchObject({ total: 6, done: 6, failed: 0, running: 0, finished: true });
    expect(sent.at(-1)?.data["text/html"]).toContain('<progress value="6" max="6"');
  });

  it("shows the execution plots inline as Vega-Lite and writes the SVG files", async () => {
    const sent = await runCell(`const plotted = await fx.plot(undefined, { dir: ${JSON.stringify(plots)}, name: "all" });`);
    expect(sent.map((m) => m.msgType)).toEqual(["display_data", "display_data"]);
    for (const m of sent) expect(m.data[VEGA_LITE]).toMatchObject({ $schema: "https://vega.github.io/schema/vega-lite/v5.json" });
    expect(existsSync(path.join(plots, "all_timeline.svg")) && existsSync(path.join(plots, "all_histogram.svg"))).toBe(true);
  });

  it("showVegaLite shows any Vega-Lite spec as one display with SVG and text fallbacks", async () => {
    const spec = {
      title: "squares in a cell",
      data: { values: [1, 2, 3].map((x) => ({ x, y: x * x })) },
      mark: "line",
      encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } },
    };
    const sent = await runCell(`import { showVegaLite } from "tswren";\nconst chart = await showVegaLite(${JSON.stringify(spec)});`);
    expect(sent.map((m) => m.msgType)).toEqual(["display_data"]);
    expect(Object.keys(sent[0].data)).toEqual([VEGA_LITE, "image/svg+xml", "text/plain"]);
    expect(sent[0].data[VEGA_LITE]).toEqual(spec);
    expect(sent[0].data["image/svg+xml"]).toMatch(/^<svg [\s\S]*squares in a cell/);
    expect(sent[0].data["text/plain"]).toBe("squares in a cell");
    expect(nb.locals["chart"]).toMatchObject({ shown: true, text: "squares in a cell" });
  });

  it("uses the kernel's tslab and never loads a second copy", () => {
    const copies = Object.keys(req.cache).filter((file) => file.endsWith(path.join("tslab", "dist", "jupyter.js")));
    expect(copies).toEqual([req.resolve("tslab/dist/jupyter.js")]);
  });
});
