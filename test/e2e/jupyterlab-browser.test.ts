/**
 * The progress extension in a real browser: JupyterLab 4.6.6 and Notebook 7.6.5 (PyPI, pinned
 * venv), Debian's Chromium driven by playwright-core, a real kernel. Opens a notebook, runs all
 * cells from the Run menu, watches the progress bar move and reach 100% (finished), sees both
 * Vega-Lite plots, and saves screenshots under test-output/jupyterlab-browser/.
 */
import { cpSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CHROMIUM_ARGS, chromiumPath } from "../services/chromium.js";
import { jupyterCommand, startJupyterLab, type JupyterLabServer } from "../services/jupyterlab.js";

const REPO = path.resolve(import.meta.dirname, "../..");
/** The notebook to run: the quick start (its 24-call job is long enough to watch the bar move). */
const NOTEBOOK = path.join(REPO, "notebooks/quickstart.ipynb");
/** Its kernel's argv: the `tswren` wrapper kernel. */
const KERNEL_ARGV = [process.execPath, path.join(REPO, "kernel-lib/bin/tswren.js"), "kernel", "--config-path", "{connection_file}"];
/** Calls of the job whose bar is watched (the notebook's longest job). */
const WATCHED_CALLS = 24;
/** Vega-Lite plots the notebook shows. */
const PLOTS = 2;

const EXTENSION = "@tswren/jupyterlab-progress";
const BUILT = path.join(REPO, "kernel-lib/labextension");
const OUT = path.join(REPO, "test-output/jupyterlab-browser");
/** The server's root: inside the repo, so a notebook importing `tswren` resolves it. */
const ROOT = path.join(OUT, "notebooks");
const NAME = path.basename(NOTEBOOK);
const RUN_TIMEOUT_MS = 120_000;

let server: JupyterLabServer | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  const [executablePath] = await Promise.all([chromiumPath(), checkBuilt()]);
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(ROOT, { recursive: true });
  cpSync(NOTEBOOK, path.join(ROOT, NAME));
  const spec = (JSON.parse(readFileSync(NOTEBOOK, "utf8")) as { metadata: { kernelspec: { name: string; display_name: string; language: string } } })
    .metadata.kernelspec;
  server = await startJupyterLab({
    rootDir: ROOT,
    kernel: { name: spec.name, displayName: spec.display_name, language: spec.language, argv: KERNEL_ARGV },
    labextensions: { [EXTENSION]: BUILT },
  });
  browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
}, 60_000);

async function checkBuilt(): Promise<void> {
  try {
    readFileSync(path.join(BUILT, "package.json"));
  } catch {
    throw new Error(`${BUILT} is missing: build the extension first (npm run build)`);
  }
}

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

/** Resolves once the server says the notebook's kernel is idle (it has started and answered). */
async function kernelIdle(): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const res = await fetch(`${server!.url}/api/sessions?token=${server!.token}`);
    const sessions = (await res.json()) as Array<{ path: string; kernel: { execution_state: string } | null }>;
    if (sessions.some((s) => s.path === NAME && s.kernel?.execution_state === "idle")) return;
    if (Date.now() > deadline) throw new Error(`the kernel of ${NAME} was not idle within 90 s: ${JSON.stringify(sessions)}\n${server!.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function runAll(page: Page): Promise<void> {
  await page.locator(".jp-Notebook .jp-Cell").first().waitFor({ timeout: 60_000 });
  // Running before the page is connected to its kernel makes JupyterLab ask which kernel to use.
  await kernelIdle();
  await page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").waitFor({ timeout: 60_000 });
  await page.locator(".lm-MenuBar-itemLabel", { hasText: /^Run$/ }).click();
  await page.locator(".lm-Menu-itemLabel", { hasText: /^Run All Cells$/ }).click();
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
      throw new Error(`no finished progress output within ${RUN_TIMEOUT_MS / 1000} s (saw ${JSON.stringify(seen)}); error outputs:\n${await errorOutputs(page)}\nserver output:\n${server?.output() ?? ""}`);
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

/** Wait until `PLOTS` Vega embeds hold a drawn chart (canvas or svg with a size). */
async function waitForPlots(page: Page): Promise<void> {
  await page.waitForFunction(
    (want) =>
      Array.from(document.querySelectorAll(".vega-embed")).filter((embed) => {
        const chart = embed.querySelector("canvas, svg.marks");
        return chart !== null && chart.getBoundingClientRect().width > 50 && chart.getBoundingClientRect().height > 50;
      }).length >= want,
    PLOTS,
    { timeout: 60_000 },
  );
}

describe("progress extension in a real browser", () => {
  it("JupyterLab lists the copied extension as enabled", async () => {
    const listing = (await jupyterCommand(server!, ["labextension", "list"])).replace(/\x1b\[[0-9;]*m/g, "");
    expect(listing).toMatch(new RegExp(`${EXTENSION} v0\\.1\\.0 enabled OK`));
  }, 60_000);

  it("JupyterLab 4: Run All shows the bar moving to 100% (finished) and both plots", async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 2400 } });
    try {
      await page.goto(`${server!.url}/lab/tree/${NAME}?token=${server!.token}`);
      await runAll(page);
      const { seen, final } = await watchProgress(page, "lab-running.png");
      expectMoved(seen, final);
      await waitForPlots(page);
      await page.screenshot({ path: path.join(OUT, "lab-finished.png") });
      expect(await errorOutputs(page)).toBe("");
      // update_display_data re-rendered in place: one progress output per job, no html fallback.
      const html = await page.locator(".jp-OutputArea-output progress").count();
      expect(html).toBe(0);
    } finally {
      await page.close();
    }
  }, 240_000);

  it("Notebook 7: the same notebook renders the progress output and the plots", async () => {
    const page = await browser!.newPage({ viewport: { width: 1280, height: 2400 } });
    try {
      await page.goto(`${server!.url}/notebooks/${NAME}?token=${server!.token}`);
      await runAll(page);
      const { seen, final } = await watchProgress(page, "notebook7-running.png");
      expectMoved(seen, final);
      await waitForPlots(page);
      await page.screenshot({ path: path.join(OUT, "notebook7-finished.png") });
      expect(await errorOutputs(page)).toBe("");
    } finally {
      await page.close();
    }
  }, 240_000);
});
