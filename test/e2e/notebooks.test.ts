import { execFile, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { jupyterBin } from "../services/jupyter.js";
import { tempDir } from "../helpers/executor.js";
import type { ProgressPayload } from "../../kernel-lib/src/notebook/progress-model.js";

// Every notebook in notebooks/ runs top to bottom, headless, with nbclient (PyPI, from the
// suite's pinned venv) on a real kernel, from the notebooks/ folder, on the embedded default
// (localhost compute, localhost storage in a temporary root). run_notebooks.py records every
// IOPub message, so the test sees the progress displays being updated in place.

const repo = path.resolve(import.meta.dirname, "../..");
const notebooksDir = path.join(repo, "notebooks");

/** The kernel the notebooks run on: the `tswren` wrapper kernel (the argv `tswren kernel install` writes). */
const KERNEL_ARGV = [process.execPath, path.join(repo, "kernel-lib/bin/tswren.js"), "kernel", "--config-path", "{connection_file}"];
const KERNEL_NAME = "tswren-e2e";

const PROGRESS = "application/vnd.tswren.progress+json";
const VEGA_LITE = "application/vnd.vegalite.v5+json";

type Progress = ProgressPayload;

interface Message {
  cell: number;
  msg_type: string;
  /** When the kernel made the message (header date, ISO 8601). */
  date: string | null;
  display_id: string | null;
  mimes: string[];
  progress: Progress | null;
  text: string | null;
}

interface Output {
  output_type: string;
  text?: string;
  data?: Record<string, unknown>;
}

interface Run {
  seconds: number;
  error: string | null;
  messages: Message[];
  cells: Array<{ cell_type: string; execution_count?: number | null; outputs?: Output[] }>;
  /** Everything the cells printed. */
  printed: string;
  /** The executed notebook exported to HTML by nbconvert. */
  html: string;
}

const notebookNames = readdirSync(notebooksDir).filter((f) => f.endsWith(".ipynb")).map((f) => f.slice(0, -".ipynb".length)).sort();
const runs = new Map<string, Run>();
let startedMs = 0;

function installKernelspec(jupyterDir: string): void {
  const dir = path.join(jupyterDir, "kernels", KERNEL_NAME);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "kernel.json"), JSON.stringify({ argv: KERNEL_ARGV, display_name: "TypeScript (tswren e2e)", language: "typescript" }));
}

function runDriver(python: string, outDir: string, env: NodeJS.ProcessEnv): Promise<string> {
  const args = [path.join(import.meta.dirname, "run_notebooks.py"), KERNEL_NAME, outDir, ...notebookNames.map((n) => path.join(notebooksDir, `${n}.ipynb`))];
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (b: Buffer) => (output += b.toString()));
    child.stderr.on("data", (b: Buffer) => (output += b.toString()));
    child.on("error", reject);
    child.on("close", () => { resolve(output); }); // cell failures are asserted per notebook below
  });
}

/** Export executed notebooks to HTML with nbconvert (the venv's, as installed with JupyterLab). */
function nbconvertHtml(bin: string, files: string[], outDir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(path.join(bin, "jupyter"), ["nbconvert", "--to", "html", "--output-dir", outDir, ...files], { maxBuffer: 16 << 20 }, (err, _stdout, stderr) => {
      if (err) reject(new Error(`nbconvert failed: ${err.message}\n${stderr.slice(-4000)}`));
      else resolve();
    });
  });
}

beforeAll(async () => {
  const bin = await jupyterBin();
  const jupyterDir = tempDir("e2e-jupyter");
  const outDir = tempDir("e2e-notebooks");
  installKernelspec(jupyterDir);
  for (const name of notebookNames) for (const kind of ["timeline", "histogram"]) rmSync(path.join(notebooksDir, "plots", `${name}_${kind}.svg`), { force: true });
  startedMs = Date.now();
  const env = {
    ...process.env,
    JUPYTER_PATH: jupyterDir,
    JUPYTER_DATA_DIR: jupyterDir,
    JUPYTER_CONFIG_DIR: jupyterDir,
    JUPYTER_PLATFORM_DIRS: "1",
    TSWREN_CONFIG: JSON.stringify({ localhost_storage: { storage_root: tempDir("e2e-storage") } }),
  };
  const log = await runDriver(path.join(bin, "python"), outDir, env);
  const executedFiles = notebookNames.map((n) => path.join(outDir, `${n}.ipynb`)).filter((f) => existsSync(f));
  if (executedFiles.length > 0) await nbconvertHtml(bin, executedFiles, outDir);
  for (const name of notebookNames) {
    const recordFile = path.join(outDir, `${name}.messages.json`);
    if (!existsSync(recordFile)) throw new Error(`run_notebooks.py wrote nothing for ${name}:\n${log.slice(-4000)}`);
    const record = JSON.parse(readFileSync(recordFile, "utf8")) as Omit<Run, "cells" | "printed">;
    const executed = JSON.parse(readFileSync(path.join(outDir, `${name}.ipynb`), "utf8")) as { cells: Run["cells"] };
    const printed = record.messages.filter((m) => m.msg_type === "stream").map((m) => m.text ?? "").join("");
    const htmlFile = path.join(outDir, `${name}.html`);
    const html = existsSync(htmlFile) ? readFileSync(htmlFile, "utf8") : "";
    runs.set(name, { ...record, cells: executed.cells, printed, html });
  }
  console.log(`notebooks (nbclient, ${KERNEL_ARGV[1]}): ${notebookNames.map((n) => `${n} ${runs.get(n)?.seconds.toFixed(1)} s`).join(", ")}`);
}, 400_000);

function run(name: string): Run {
  const r = runs.get(name);
  if (!r) throw new Error(`${name} did not run`);
  return r;
}

/** `pi ~ 3.14159` -> 3.14159 (the first number after `label`). */
function numberAfter(text: string, label: string): number {
  const m = new RegExp(`${label}\\s*([-\\d.]+)`).exec(text);
  if (!m) throw new Error(`no "${label}" in:\n${text}`);
  return Number(m[1]);
}

describe.each(notebookNames)("notebooks/%s.ipynb under nbclient", (name) => {
  it("runs every code cell without an error", () => {
    const r = run(name);
    expect(r.error).toBeNull();
    const code = r.cells.filter((c) => c.cell_type === "code");
    expect(code.every((c) => typeof c.execution_count === "number")).toBe(true);
  });

  it("shows live progress: each display is created, updated in place by display id, and ends finished", () => {
    const r = run(name);
    const created = r.messages.filter((m) => m.msg_type === "display_data" && m.progress !== null);
    expect(created.length).toBeGreaterThan(0);
    for (const first of created) {
      expect(first.mimes).toEqual([PROGRESS, "text/html", "text/plain"]);
      const updates = r.messages.filter((m) => m.msg_type === "update_display_data" && m.display_id === first.display_id);
      // a job whose calls all ended before its wait began is shown once, already finished
      if (first.progress?.finished !== true) expect(updates.length, `updates of ${first.progress?.jobId}`).toBeGreaterThan(0);
      expect(updates.every((u) => u.cell === first.cell)).toBe(true);
      const last = (updates.length > 0 ? updates[updates.length - 1] : first).progress;
      expect(last).toMatchObject({ version: 2, jobId: first.progress?.jobId, finished: true, running: 0 });
      expect(last!.done + last!.failed).toBe(last!.total);
      // at most ~4 a second: 250 ms between the kernel's messages, but for the final one
      const sentMs = [first, ...updates.slice(0, -1)].map((m) => Date.parse(m.date ?? ""));
      for (let i = 1; i < sentMs.length; i++) expect(sentMs[i] - sentMs[i - 1]).toBeGreaterThanOrEqual(245);
    }
    const shown = r.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.data?.[PROGRESS] !== undefined);
    expect(shown.length).toBe(created.length);
    for (const o of shown) expect((o.data?.[PROGRESS] as Progress).finished).toBe(true); // nbclient applied the updates
  });

  it("shows the execution plots as Vega-Lite and writes their SVG files", () => {
    const r = run(name);
    const charts = r.cells.flatMap((c) => c.outputs ?? []).filter((o) => o.data?.[VEGA_LITE] !== undefined);
    expect(charts.length).toBeGreaterThanOrEqual(2);
    // fx.plot(futures, { dir: "plots", name: <the notebook's name> }) in each notebook
    for (const kind of ["timeline", "histogram"]) {
      const file = path.join(notebooksDir, "plots", `${name}_${kind}.svg`);
      expect(existsSync(file), file).toBe(true);
      expect(statSync(file).mtimeMs).toBeGreaterThanOrEqual(startedMs - 1000);
      expect(readFileSync(file, "utf8")).toMatch(/^<svg [\s\S]*seconds since job start/);
    }
  });
});

/** The SVG documents of an nbconvert HTML export (its `image/svg+xml` outputs are base64 `<img>`s). */
function exportedSvgs(html: string): string[] {
  return [...html.matchAll(/data-mime-type="image\/svg\+xml"[^>]*>\s*<img [^>]*src="data:image\/svg\+xml;base64,([^"]+)"/g)].map((m) =>
    Buffer.from(m[1], "base64").toString("utf8"),
  );
}

function xmlText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

describe.each(notebookNames)("notebooks/%s.ipynb exported to HTML", (name) => {
  it("shows every chart of the executed notebook as SVG (nbconvert --to html)", () => {
    const r = run(name);
    const titles = r.cells
      .flatMap((c) => c.outputs ?? [])
      .map((o) => o.data?.[VEGA_LITE] as { title?: unknown } | undefined)
      .filter((spec) => spec !== undefined)
      .map((spec) => spec.title);
    expect(titles.length).toBeGreaterThan(0);
    const svgs = exportedSvgs(r.html);
    expect(svgs.length).toBe(titles.length);
    for (const title of titles) {
      expect(typeof title).toBe("string");
      expect(svgs.some((svg) => svg.startsWith("<svg") && svg.includes(xmlText(title as string))), `chart "${String(title)}" in ${name}.html`).toBe(true);
    }
  });
});

describe("notebook values", () => {
  it.runIf(notebookNames.includes("quickstart"))("quickstart: map, callAsync, mapReduce, wait, errors", () => {
    const { printed, messages } = run("quickstart");
    for (const value of ["[ 8, 9, 10, 11 ]", "\n10\n", "\n38\n", "call 0 estimating with 200000 samples", "[ 1, null, 3 ]"]) expect(printed).toContain(value);
    expect(Math.abs(numberAfter(printed, "pi ~") - Math.PI)).toBeLessThan(0.05);
    const failedJob = messages.filter((m) => m.progress?.finished === true && m.progress.failed > 0).map((m) => m.progress);
    expect(failedJob).toEqual([expect.objectContaining({ total: 3, done: 2, failed: 1 })]);
  });

  it.runIf(notebookNames.includes("pi-estimation"))("pi-estimation: 16 million darts give pi to 2 decimals", () => {
    const { printed } = run("pi-estimation");
    expect(printed).toContain("from 16,000,000 darts");
    expect(Math.abs(numberAfter(printed, "pi ~") - Math.PI)).toBeLessThan(0.01);
    // The same job as a %%cloud map_reduce cell on the tswren kernel.
    expect(Math.abs(numberAfter(printed, "%%cloud: pi ~") - Math.PI)).toBeLessThan(0.01);
  });

  it.runIf(notebookNames.includes("monte-carlo-stock"))("monte-carlo-stock: the mean end price matches geometric Brownian motion's, with a histogram chart", () => {
    const r = run("monte-carlo-stock");
    expect(r.printed).toContain("25000 forecasts over 1080 days");
    const simulated = numberAfter(r.printed, "day 1080: mean");
    const theory = numberAfter(r.printed, "\\(theory");
    expect(Math.abs(simulated / theory - 1)).toBeLessThan(0.05);
    const histogram = r.cells.flatMap((c) => c.outputs ?? []).find((o) => (o.data?.[VEGA_LITE] as { title?: string } | undefined)?.title?.startsWith("Price after 540 and 1080"));
    const values = (histogram?.data?.[VEGA_LITE] as { data: { values: Array<{ count: number }> } }).data.values;
    expect(values.reduce((a, v) => a + v.count, 0)).toBeGreaterThan(2 * 25000 * 0.98);
    // showVegaLite: the same display carries the SVG and text fallbacks
    const text = (mime: string): unknown => { const v = histogram?.data?.[mime]; return Array.isArray(v) ? v.join("") : v; }; // nbformat keeps lines as a list
    expect(text("image/svg+xml")).toMatch(/^<svg [\s\S]*Price after 540 and 1080/);
    expect(text("text/plain")).toMatch(/^Price after 540 and 1080/);
  });

  it.runIf(notebookNames.includes("word-count"))("word-count: counts over a folder's parts equal a plain local count", () => {
    const { printed } = run("word-count");
    const [, words, parts] = /(\d+) words in (\d+) parts/.exec(printed) ?? [];
    expect(Number(words)).toBe(84000);
    expect(Number(parts)).toBeGreaterThan(4); // 4 files, split into 32 KiB parts
    expect(printed).toMatch(/\ntrue\n/);
  });
});

describe("notebooks in git", () => {
  it("are nbformat 4.5 with a unique, valid id on every cell", () => {
    for (const name of notebookNames) {
      const nb = JSON.parse(readFileSync(path.join(notebooksDir, `${name}.ipynb`), "utf8")) as { nbformat: number; nbformat_minor: number; cells: Array<{ id?: unknown }> };
      expect([nb.nbformat, nb.nbformat_minor], name).toEqual([4, 5]);
      const ids = nb.cells.map((c) => c.id);
      for (const id of ids) expect(id, `a cell id in ${name}`).toMatch(/^[a-zA-Z0-9_-]{1,64}$/); // nbformat 4.5's pattern
      expect(new Set(ids).size, `${name}: duplicate cell ids`).toBe(ids.length);
    }
  });

  it("are stored without outputs or execution counts", () => {
    for (const name of notebookNames) {
      const nb = JSON.parse(readFileSync(path.join(notebooksDir, `${name}.ipynb`), "utf8")) as Run;
      for (const cell of nb.cells.filter((c) => c.cell_type === "code")) {
        expect(cell.outputs, name).toEqual([]);
        expect(cell.execution_count, name).toBeNull();
      }
    }
  });
});
