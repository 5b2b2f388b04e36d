/**
 * What a notebook shows in a real JupyterLab 4 (Chromium, the built extension, the tswren kernel)
 * when things go wrong: a remote error reads as one block pointing at the user's cell line; an
 * interrupt draws the waited job's bar grey, "cancelled (n)"; a restart or a kernel death marks
 * the running job's bar "stopped: ..." in the page and in the saved notebook (the extension's
 * kernel-status plugin; after SIGKILL only the extension can do it). Screenshots go to
 * test-output/jupyterlab-kernel-events/ (remote-error.png, cancelled-bar.png,
 * restart-stopped.png, kernel-died-stopped.png).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cellViews, closeNotebook, menu, notebookOf, openNotebook, REPO, runAll, saveNotebook, sessionOf, startLab, stopLab, waitForBar, type Lab } from "../helpers/jupyterlab-page.js";

const OUT = path.join(REPO, "test-output/jupyterlab-kernel-events");
const SETUP = 'import { functionExecutor } from "tswren";\nconst fx = functionExecutor();';
/** 40 calls of a second each: long enough to act on while the bar moves. */
const NAPS = [
  "const naps = await fx.map(async (i: number) => {",
  "  await new Promise((resolve) => setTimeout(resolve, 1000));",
  "  return i;",
  "}, Array.from({ length: 40 }, (_, i) => i));",
  "await fx.getResult(naps);",
].join("\n");
const NOTEBOOKS = {
  "remote-error.ipynb": notebookOf("remote-error", [
    SETUP,
    "function checkRow(row: number): number {\n  if (row === 2) throw new RangeError(`bad row ${row}`);\n  return row * 10;\n}",
    "const rows = await fx.map(checkRow, [1, 2, 3]);\nawait fx.getResult(rows);",
  ]),
  "cancel.ipynb": notebookOf("cancel", [SETUP, NAPS]),
  "restart.ipynb": notebookOf("restart", [SETUP, NAPS]),
  "kernel-death.ipynb": notebookOf("kernel-death", [SETUP, NAPS]),
};
const TIMEOUT_MS = 60_000;

let lab: Lab | undefined;

beforeAll(async () => {
  lab = await startLab(OUT, NOTEBOOKS);
}, 300_000);

afterAll(async () => {
  await stopLab(lab);
}, 60_000);

/** Run All, then wait until the job's bar moves (some calls ended, not all). */
async function runUntilBarMoves(page: Page): Promise<void> {
  await runAll(page);
  await waitForBar(page, (bar) => bar.percent > 0 && !bar.finished, TIMEOUT_MS, "moving");
}

/** Dismiss a dialog JupyterLab shows (e.g. "Kernel Restarting"), if any. */
async function dismissDialog(page: Page): Promise<void> {
  const accept = page.locator(".jp-Dialog .jp-mod-accept");
  if (await accept.count() > 0) await accept.first().click();
}

/** The pid of a notebook's kernel process (its command line names the kernel's connection file). */
async function kernelPid(name: string): Promise<number> {
  const id = (await sessionOf(lab!, name))?.kernel?.id;
  if (id === undefined) throw new Error(`${name} has no kernel`);
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline = "";
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue; // the process ended meanwhile
    }
    if (cmdline.includes("tswren.js") && cmdline.includes(`kernel-${id}.json`)) return Number(entry);
  }
  throw new Error(`no process of kernel ${id}`);
}

/** The progress payloads the saved notebook file holds. */
function savedPayloads(text: string): Array<Record<string, unknown>> {
  const nb = JSON.parse(text) as { cells: Array<{ outputs?: Array<{ data?: Record<string, unknown> }> }> };
  return nb.cells.flatMap((c) => c.outputs ?? []).flatMap((o): Array<Record<string, unknown>> => {
    const payload = o.data?.["application/vnd.tswren.progress+json"] as Record<string, unknown> | undefined;
    return payload === undefined ? [] : [payload];
  });
}

describe("notebook events in a real JupyterLab", () => {
  it("a remote error reads as one block: the call, the input, the message and the user's frame at its cell line", async () => {
    const page = await openNotebook(lab!, "remote-error.ipynb", { height: 1000 });
    try {
      await runAll(page);
      await waitForBar(page, (bar) => bar.finished, TIMEOUT_MS, "finished");
      await page.waitForFunction(() => document.querySelectorAll(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").length > 0, undefined, { timeout: TIMEOUT_MS });
      const views = await cellViews(page);
      const error = views[2].errors;
      await page.screenshot({ path: path.join(OUT, "remote-error.png") });
      expect(views[0].errors + views[1].errors).toBe("");
      expect(error).toContain("TSWREN_REMOTE_FUNCTION");
      expect(error).toMatch(/checkRow failed on input \[1\]/);
      expect(error.split("RangeError: bad row 2").length - 1, error).toBe(1);
      expect(error).toMatch(/at checkRow \(cell \[2\], line 2\)/);
      expect(error).not.toMatch(/tswren-function|node:internal|remoteStack/);
      expect(views[2].bars.map((b) => b.status)).toEqual(["finished, 1 failed"]);
    } finally {
      await closeNotebook(lab!, page, "remote-error.ipynb");
    }
  }, 300_000);

  it("an interrupt cancels the job the cell waits on: its bar turns grey, cancelled (n)", async () => {
    const page = await openNotebook(lab!, "cancel.ipynb", { height: 1000 });
    try {
      await runUntilBarMoves(page);
      await menu(page, "Kernel", /^Interrupt Kernel$/);
      const bar = await waitForBar(page, (b) => b.finished, TIMEOUT_MS, "finished after the interrupt");
      await page.waitForFunction(() => document.body.textContent?.includes("a tswren job it waited on was cancelled"), undefined, { timeout: TIMEOUT_MS });
      await page.screenshot({ path: path.join(OUT, "cancelled-bar.png") });
      expect(bar.status).toMatch(/^finished, cancelled \(\d+\)$/);
      expect(bar.counts).toMatch(/^\d+ done \/ 0 running \/ 0 failed \/ cancelled \(\d+\) \/ 40 total$/);
      expect(bar.classes).toContain("tswren-progress-has-cancelled");
      expect(bar.classes).not.toContain("tswren-progress-has-failed");
    } finally {
      await closeNotebook(lab!, page, "cancel.ipynb");
    }
  }, 300_000);

  it("a restart marks the running job's bar stopped, in the page and in the saved notebook", async () => {
    const page = await openNotebook(lab!, "restart.ipynb", { height: 1000 });
    try {
      await runUntilBarMoves(page);
      await menu(page, "Kernel", /^Restart Kernel…?$/);
      await page.locator(".jp-Dialog .jp-mod-accept").click();
      const bar = await waitForBar(page, (b) => b.status.startsWith("stopped:"), TIMEOUT_MS, "stopped");
      await page.screenshot({ path: path.join(OUT, "restart-stopped.png") });
      // The extension marks it on "restarting"; the kernel's own final update of a clean
      // shutdown says "kernel shut down" if it arrives after.
      expect(bar.status).toMatch(/^stopped: kernel (restarted|shut down)$/);
      expect(bar.classes).toContain("tswren-progress-stopped");
      // Saving needs no kernel: waiting for the restarted kernel to report idle through the
      // sessions API timed out (180 s) in full-file runs while the page already showed the bar.
      const saved = await saveNotebook(lab!, page, "restart.ipynb", (text) => text.includes("stopped"));
      expect(savedPayloads(saved)).toEqual([expect.objectContaining({ finished: true, stopped: expect.stringMatching(/^kernel (restarted|shut down)$/) })]);
    } finally {
      await closeNotebook(lab!, page, "restart.ipynb");
    }
  }, 300_000);

  it("a kernel death (SIGKILL, restarted by the server) marks the bar stopped: kernel died and was restarted", async () => {
    const page = await openNotebook(lab!, "kernel-death.ipynb", { height: 1000 });
    try {
      await runUntilBarMoves(page);
      process.kill(await kernelPid("kernel-death.ipynb"), "SIGKILL");
      const bar = await waitForBar(page, (b) => b.status.startsWith("stopped:"), TIMEOUT_MS, "stopped");
      expect(bar.status).toBe("stopped: kernel died and was restarted");
      expect(bar.counts).toMatch(/ \/ 0 running \//);
      await dismissDialog(page);
      await page.screenshot({ path: path.join(OUT, "kernel-died-stopped.png") });
      // Saving needs no kernel, so the restarted kernel is not waited for (see the restart case).
      await dismissDialog(page);
      const saved = await saveNotebook(lab!, page, "kernel-death.ipynb", (text) => text.includes("stopped"));
      const [payload] = savedPayloads(saved);
      expect(payload).toMatchObject({ finished: true, running: 0, stopped: "kernel died and was restarted" });
      const text = JSON.parse(saved) as { cells: Array<{ outputs?: Array<{ data?: Record<string, string> }> }> };
      const plain = text.cells.flatMap((c) => c.outputs ?? []).map((o) => o.data?.["text/plain"] ?? "").join("\n");
      expect(plain).toContain("stopped: kernel died and was restarted");
    } finally {
      await closeNotebook(lab!, page, "kernel-death.ipynb");
    }
  }, 300_000);
});
