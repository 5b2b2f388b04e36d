/**
 * Browser tests of notebooks in a real JupyterLab 4 (test/services/jupyterlab.ts) with Debian's
 * Chromium (playwright-core): a lab with the tswren kernel and the built extension, notebooks
 * written into its root, and what a page shows per code cell (progress bars, charts, errors).
 */
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { CHROMIUM_ARGS, chromiumPath } from "../services/chromium.js";
import { startJupyterLab, type JupyterLabServer } from "../services/jupyterlab.js";

export const REPO = path.resolve(import.meta.dirname, "../..");
export const EXTENSION = "@tswren/jupyterlab-progress";
const BUILT = path.join(REPO, "kernel-lib/labextension");
/** The `tswren` wrapper kernel (the argv `tswren kernel install` writes). */
const KERNEL_ARGV = [process.execPath, path.join(REPO, "kernel-lib/bin/tswren.js"), "kernel", "--config-path", "{connection_file}"];
const KERNELSPEC = { name: "tswren", displayName: "TypeScript (tswren)", language: "typescript" };

/** A running lab, its browser and the folder its notebooks live in. */
export interface Lab {
  server: JupyterLabServer;
  browser: Browser;
  /** The server's root (inside the repo, so a notebook importing `tswren` resolves it). */
  root: string;
  /** Where screenshots go. */
  out: string;
}

/** A notebook (nbformat 4.5, cell ids, the tswren kernelspec) of the given code cells. */
export function notebookOf(name: string, cells: string[]): string {
  return JSON.stringify({
    cells: cells.map((source, i) => ({ cell_type: "code", id: `${name}-${i}`, metadata: {}, execution_count: null, outputs: [], source })),
    metadata: { kernelspec: { name: KERNELSPEC.name, display_name: KERNELSPEC.displayName, language: KERNELSPEC.language }, language_info: { name: "typescript" } },
    nbformat: 4,
    nbformat_minor: 5,
  }, null, 1);
}

/**
 * Start JupyterLab (the extension installed by copy, the tswren kernelspec with
 * `interrupt_mode: message`) and Chromium.
 * @param out - the test's output folder (emptied); notebooks go to `<out>/notebooks`
 * @param notebooks - file name -> path of a notebook to copy, or its JSON text
 */
export async function startLab(out: string, notebooks: Record<string, string>): Promise<Lab> {
  try {
    readFileSync(path.join(BUILT, "package.json"));
  } catch {
    throw new Error(`${BUILT} is missing: build the extension first (npm run build)`);
  }
  const executablePath = await chromiumPath();
  rmSync(out, { recursive: true, force: true });
  const root = path.join(out, "notebooks");
  mkdirSync(root, { recursive: true });
  for (const [name, source] of Object.entries(notebooks)) {
    if (source.trimStart().startsWith("{")) writeFileSync(path.join(root, name), source);
    else cpSync(source, path.join(root, name));
  }
  const server = await startJupyterLab({
    rootDir: root,
    kernel: { ...KERNELSPEC, argv: KERNEL_ARGV, interruptMode: "message" },
    labextensions: { [EXTENSION]: BUILT },
  });
  try {
    const browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true });
    return { server, browser, root, out };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

export async function stopLab(lab: Lab | undefined): Promise<void> {
  await lab?.browser.close();
  await lab?.server.stop();
}

/** The server's session of a notebook, when it has one. */
export async function sessionOf(lab: Lab, name: string): Promise<{ kernel: { id: string; execution_state: string } | null } | undefined> {
  const res = await fetch(`${lab.server.url}/api/sessions?token=${lab.server.token}`);
  const sessions = (await res.json()) as Array<{ path: string; kernel: { id: string; execution_state: string } | null }>;
  return sessions.find((s) => s.path === name);
}

/** Resolves once the server says the notebook's kernel is idle (it has started and answered). */
export async function kernelIdle(lab: Lab, name: string): Promise<void> {
  // A restarted tslab kernel compiles its prelude first: minutes on a loaded CI machine.
  const deadline = Date.now() + 180_000;
  for (;;) {
    if ((await sessionOf(lab, name))?.kernel?.execution_state === "idle") return;
    if (Date.now() > deadline) throw new Error(`the kernel of ${name} was not idle within 180 s\n${lab.server.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Open a notebook in JupyterLab (`ui: "notebooks"`: Notebook 7) and wait until its kernel is ready. */
export async function openNotebook(lab: Lab, name: string, options: { height?: number; ui?: "lab" | "notebooks" } = {}): Promise<Page> {
  const page = await lab.browser.newPage({ viewport: { width: 1280, height: options.height ?? 2400 } });
  // Lab pages get a workspace of their own, so notebooks opened by earlier pages are not restored beside it.
  const route = options.ui === "notebooks" ? "notebooks" : `lab/workspaces/${name.replace(/\W/g, "-")}/tree`;
  await page.goto(`${lab.server.url}/${route}/${name}?token=${lab.server.token}&reset`);
  await page.locator(".jp-Notebook .jp-Cell").first().waitFor({ timeout: 60_000 });
  // Running before the page is connected to its kernel makes JupyterLab ask which kernel to use.
  await kernelIdle(lab, name);
  await page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").waitFor({ timeout: 60_000 });
  return page;
}

/** Close a page and shut its notebook's kernel down (the server deletes the session). */
export async function closeNotebook(lab: Lab, page: Page, name: string): Promise<void> {
  await page.close();
  const res = await fetch(`${lab.server.url}/api/sessions?token=${lab.server.token}`);
  const sessions = (await res.json()) as Array<{ id: string; path: string }>;
  for (const s of sessions.filter((x) => x.path === name)) {
    await fetch(`${lab.server.url}/api/sessions/${s.id}?token=${lab.server.token}`, { method: "DELETE" });
  }
}

/** Click a menu bar entry, then an item of its menu. */
export async function menu(page: Page, top: string, item: RegExp): Promise<void> {
  await page.locator(".lm-MenuBar-itemLabel", { hasText: new RegExp(`^${top}$`) }).click();
  await page.locator(".lm-Menu-itemLabel", { hasText: item }).click();
}

/** Run > Run All Cells. */
export function runAll(page: Page): Promise<void> {
  return menu(page, "Run", /^Run All Cells$/);
}

/** Wait until every code cell has run (an execution count in its prompt) and the kernel is idle. */
export async function allCellsRan(page: Page, timeoutMs: number): Promise<void> {
  await page.waitForFunction(
    () => {
      const prompts = Array.from(document.querySelectorAll(".jp-Notebook .jp-CodeCell .jp-InputPrompt"));
      return prompts.length > 0 && prompts.every((p) => /\[\d+\]/.test(p.textContent ?? ""));
    },
    undefined,
    { timeout: timeoutMs, polling: 250 },
  );
  await page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").waitFor({ timeout: timeoutMs });
}

/** One progress bar as the extension draws it. */
export interface BarView {
  title: string;
  status: string;
  counts: string;
  finished: boolean;
  percent: number;
  classes: string[];
}

/** What one code cell shows below it. */
export interface CellView {
  /** The cell's source as the editor shows it. */
  source: string;
  bars: BarView[];
  /** Vega-Lite chart outputs (JupyterLab's Vega-Lite renderer). */
  charts: number;
  /** Text of error and stderr outputs. */
  errors: string;
}

/** The outputs under each code cell of the open notebook, in order. */
export function cellViews(page: Page): Promise<CellView[]> {
  return page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>(".jp-Notebook .jp-CodeCell")).map((cell) => ({
      source: Array.from(cell.querySelectorAll(".jp-InputArea-editor .cm-line")).map((l) => l.textContent ?? "").join("\n"),
      bars: Array.from(cell.querySelectorAll<HTMLElement>(".jp-OutputArea .tswren-progress")).map((bar) => ({
        title: bar.querySelector(".tswren-progress-title")?.textContent ?? "",
        status: bar.querySelector(".tswren-progress-status")?.textContent ?? "",
        counts: bar.querySelector(".tswren-progress-counts")?.textContent ?? "",
        finished: bar.dataset["finished"] === "true",
        percent: Number(bar.querySelector("[role=progressbar]")?.getAttribute("aria-valuenow") ?? -1),
        classes: Array.from(bar.classList),
      })),
      charts: cell.querySelectorAll(".jp-OutputArea .jp-RenderedVegaLite").length,
      errors: Array.from(cell.querySelectorAll(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"))
        .map((n) => n.textContent ?? "")
        .join("\n"),
    })),
  );
}

/** Wait until the first progress bar of the page satisfies `check`; resolves with it. */
export async function waitForBar(page: Page, check: (bar: BarView) => boolean, timeoutMs: number, what: string): Promise<BarView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const bar = (await cellViews(page)).flatMap((c) => c.bars)[0];
    if (bar !== undefined && check(bar)) return bar;
    if (Date.now() > deadline) throw new Error(`no progress bar ${what} within ${timeoutMs / 1000} s; last seen: ${JSON.stringify(bar)}`);
    await page.waitForTimeout(100);
  }
}

/** File > Save Notebook; resolves with the notebook as saved once `saved(json)` holds. */
export async function saveNotebook(lab: Lab, page: Page, name: string, saved: (text: string) => boolean): Promise<string> {
  await menu(page, "File", /^Save( Notebook)?$/);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const text = readFileSync(path.join(lab.root, name), "utf8");
    if (saved(text)) return text;
    if (Date.now() > deadline) throw new Error(`${name} was not saved as expected within 30 s`);
    await page.waitForTimeout(200);
  }
}
