/**
 * The progress extension in a real browser: JupyterLab 4.6.6 and Notebook 7.6.5 (PyPI, pinned
 * venv), Debian's Chromium driven by playwright-core, a real kernel. Runs every shipped notebook
 * with Run > Run All Cells and checks that each progress bar and each chart lies under the cell
 * whose code made it (none under later cells), watches the quick start's bar move and reach 100%
 * (finished), and saves a screenshot of each Run All under test-output/jupyterlab-browser/
 * (`runall-<notebook>.png`). Kernel restarts, deaths, interrupts and remote errors:
 * jupyterlab-kernel-events.test.ts.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jupyterCommand } from "../services/jupyterlab.js";
import { allCellsRan, cellViews, closeNotebook, EXTENSION, openNotebook, REPO, runAll, startLab, stopLab, type CellView, type Lab } from "../helpers/jupyterlab-page.js";

const NOTEBOOKS = path.join(REPO, "notebooks");
/** The notebook whose bar is watched moving: the quick start (its 24-call job is long enough). */
const NAME = "quickstart.ipynb";
/** Calls of the job whose bar is watched (the notebook's longest job). */
const WATCHED_CALLS = 24;
/** Vega-Lite plots the quick start shows. */
const PLOTS = 2;
const OUT = path.join(REPO, "test-output/jupyterlab-browser");
const RUN_TIMEOUT_MS = 120_000;
const SHIPPED = readdirSync(NOTEBOOKS).filter((f) => f.endsWith(".ipynb")).sort();

let lab: Lab | undefined;

beforeAll(async () => {
  lab = await startLab(OUT, Object.fromEntries(SHIPPED.map((f) => [f, path.join(NOTEBOOKS, f)])));
}, 300_000);

afterAll(async () => {
  await stopLab(lab);
}, 60_000);

/** What the page's progress outputs show right now. */
interface ProgressState {
  count: number;
  /** Calls of the followed job. */
  total: number;
  percent: number | undefined;
  finished: boolean;
  invalid: number;
  counts: string;
}

function readProgress(page: Page): Promise<ProgressState> {
  return page.evaluate(() => {
    const nodes = Array.from(document.querySelectorAll<HTMLElement>(".tswren-progress"));
    // Follow the job with the most calls (the one long enough to watch), the latest on a tie.
    const total = (n: HTMLElement): number => Number(/(\d+) total/.exec(n.querySelector(".tswren-progress-counts")?.textContent ?? "")?.[1] ?? -1);
    const last = nodes.reduce<HTMLElement | undefined>((best, n) => (best === undefined || total(n) >= total(best) ? n : best), undefined);
    const now = last?.querySelector("[role=progressbar]")?.getAttribute("aria-valuenow");
    return {
      count: nodes.length,
      total: last === undefined ? -1 : total(last),
      percent: now === null || now === undefined ? undefined : Number(now),
      finished: last?.dataset["finished"] === "true",
      invalid: nodes.filter((n) => n.classList.contains("tswren-progress-invalid")).length,
      counts: last?.querySelector(".tswren-progress-counts")?.textContent ?? "",
    };
  });
}

/** Text of any error or stderr output, to explain a failure. */
function errorOutputs(page: Page): Promise<string> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"))
      .map((n) => n.textContent ?? "")
      .join("\n"),
  );
}

/**
 * Sample the progress bar every 50 ms until it shows finished; take a screenshot while it moves.
 * @returns the distinct percentages seen, in order
 */
async function watchProgress(page: Page, shot: string): Promise<{ seen: number[]; final: ProgressState }> {
  const seen: number[] = [];
  let shotTaken = false;
  const deadline = Date.now() + RUN_TIMEOUT_MS;
  for (;;) {
    const state = await readProgress(page);
    const watched = state.total === WATCHED_CALLS;
    if (watched && state.percent !== undefined && state.percent !== seen.at(-1)) seen.push(state.percent);
    if (watched && !shotTaken && state.percent !== undefined && state.percent > 0 && state.percent < 100) {
      await page.screenshot({ path: path.join(OUT, shot) });
      shotTaken = true;
    }
    if (watched && state.finished) return { seen, final: state };
    if (Date.now() > deadline) {
      await page.screenshot({ path: path.join(OUT, `timeout-${shot}`) });
      throw new Error(`no finished progress output within ${RUN_TIMEOUT_MS / 1000} s (saw ${JSON.stringify(seen)}); error outputs:\n${await errorOutputs(page)}\nserver output:\n${lab?.server.output() ?? ""}`);
    }
    await page.waitForTimeout(50);
  }
}

function expectMoved(seen: number[], final: ProgressState): void {
  expect(seen.length, `percentages seen: ${JSON.stringify(seen)}`).toBeGreaterThanOrEqual(3);
  expect(seen[0]).toBeLessThan(100);
  for (let i = 1; i < seen.length; i++) expect(seen[i]).toBeGreaterThan(seen[i - 1]);
  expect(final.percent).toBe(100);
  expect(final.finished).toBe(true);
  expect(final.invalid).toBe(0);
  expect(final.counts).toMatch(/^\d+ done \/ 0 running \/ \d+ failed \/ \d+ total$/);
}

/** Wait until `want` Vega embeds hold a drawn chart (canvas or svg with a size). */
async function waitForPlots(page: Page, want: number): Promise<void> {
  await page.waitForFunction(
    (n) =>
      Array.from(document.querySelectorAll(".vega-embed")).filter((embed) => {
        const chart = embed.querySelector("canvas, svg.marks");
        return chart !== null && chart.getBoundingClientRect().width > 50 && chart.getBoundingClientRect().height > 50;
      }).length >= n,
    want,
    { timeout: 60_000 },
  );
}

/** What a code cell of a shipped notebook must show: bars when it waits on a job, and its charts. */
interface Expected {
  source: string;
  bars: boolean;
  charts: number;
}

function expectedOutputs(name: string): Expected[] {
  const nb = JSON.parse(readFileSync(path.join(NOTEBOOKS, name), "utf8")) as { cells: Array<{ cell_type: string; source: string | string[] }> };
  return nb.cells
    .filter((c) => c.cell_type === "code")
    .map((c) => {
      const source = Array.isArray(c.source) ? c.source.join("") : c.source;
      return {
        source,
        bars: /getResult\(|\.wait\(|^%%cloud/m.test(source),
        charts: 2 * (source.match(/fx\.plot\(/g)?.length ?? 0) + (source.match(/showVegaLite\(/g)?.length ?? 0),
      };
    });
}

/**
 * Every bar and chart lies under the cell whose code made it: a cell that waits on a job shows
 * its finished bars, a cell that plots shows its charts, every other cell (the last one,
 * `await fx.close()`, included) shows neither.
 */
function expectUnderItsCell(name: string, views: CellView[]): void {
  const expected = expectedOutputs(name);
  expect(views.map((v) => v.source.split("\n")[0])).toEqual(expected.map((e) => e.source.split("\n")[0]));
  views.forEach((view, i) => {
    const want = expected[i];
    const where = `${name}, code cell ${i + 1}: ${want.source.split("\n")[0]}\n${JSON.stringify(view.bars)}`;
    if (want.bars) expect(view.bars.length, where).toBeGreaterThan(0);
    else expect(view.bars, where).toEqual([]);
    for (const bar of view.bars) expect(bar.finished && bar.status.startsWith("finished"), where).toBe(true);
    expect(view.charts, where).toBe(want.charts);
  });
}

async function expectRunAll(page: Page, name: string): Promise<void> {
  await allCellsRan(page, RUN_TIMEOUT_MS);
  const views = await cellViews(page);
  expect(views.map((v) => v.errors).join("")).toBe("");
  expectUnderItsCell(name, views);
  const charts = views.reduce((n, v) => n + v.charts, 0);
  if (charts > 0) await waitForPlots(page, charts);
  await page.screenshot({ path: path.join(OUT, `runall-${name.replace(/\.ipynb$/, "")}.png`) });
}

describe("progress extension in a real browser", () => {
  it("JupyterLab lists the copied extension as enabled", async () => {
    const listing = (await jupyterCommand(lab!.server, ["labextension", "list"])).replace(/\x1b\[[0-9;]*m/g, "");
    expect(listing).toMatch(new RegExp(`${EXTENSION} v0\\.1\\.0 enabled OK`));
  }, 60_000);

  it("JupyterLab 4: Run All of the quick start shows the bar moving to 100% (finished), both plots, each under its cell", async () => {
    const page = await openNotebook(lab!, NAME, { height: 3600 });
    try {
      await runAll(page);
      const { seen, final } = await watchProgress(page, "lab-running.png");
      expectMoved(seen, final);
      await waitForPlots(page, PLOTS);
      await expectRunAll(page, NAME);
      // update_display_data re-rendered in place: one progress output per job, no html fallback.
      const html = await page.locator(".jp-OutputArea-output progress").count();
      expect(html).toBe(0);
    } finally {
      await closeNotebook(lab!, page, NAME);
    }
  }, 240_000);

  it.each(SHIPPED.filter((f) => f !== NAME))("JupyterLab 4: Run All of %s puts each bar and chart under its cell", async (name) => {
    const page = await openNotebook(lab!, name, { height: 3600 });
    try {
      await runAll(page);
      await expectRunAll(page, name);
    } finally {
      await closeNotebook(lab!, page, name);
    }
  }, 240_000);

  it("Notebook 7: the quick start renders the progress output and the plots", async () => {
    const page = await openNotebook(lab!, NAME, { ui: "notebooks" });
    try {
      await runAll(page);
      const { seen, final } = await watchProgress(page, "notebook7-running.png");
      expectMoved(seen, final);
      await waitForPlots(page, PLOTS);
      await page.screenshot({ path: path.join(OUT, "notebook7-finished.png") });
      expect(await errorOutputs(page)).toBe("");
    } finally {
      await closeNotebook(lab!, page, NAME);
    }
  }, 240_000);
});
