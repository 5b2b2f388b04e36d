import { afterEach, describe, expect, it } from "vitest";
import { notebookOrTerminalProgress } from "../../kernel-lib/src/notebook/activate.js";
import { notebookSink } from "../../kernel-lib/src/notebook/display.js";
import { installKernelHook, type DisplayContent, type KernelHook } from "../../kernel-lib/src/notebook/kernel-hook.js";
import { NotebookProgress } from "../../kernel-lib/src/notebook/notebook-progress.js";
import { PROGRESS_MIME } from "../../kernel-lib/src/notebook/progress-model.js";
import { endFuture, jobFutures } from "../helpers/futures.js";

// Which display sink the library picks, in order: the tswren kernel's hook, stock tslab, none.
// (The stock-tslab bundle path with the real tslab runs in test/integration/tslab-display.test.ts.)

const globals = globalThis as Record<string, unknown>;

afterEach(() => {
  delete globals["__tswrenKernel"];
  delete globals["__tslab__"];
});

describe("notebook display sink", () => {
  it("is absent outside a notebook, so waits keep the terminal progress", () => {
    expect(notebookSink()).toBeUndefined();
    expect(notebookOrTerminalProgress(jobFutures("M000", 2))).not.toBeInstanceOf(NotebookProgress);
  });

  it("sends bundles with a display id through the tswren kernel's hook when it is installed", () => {
    const sent: Array<{ content: DisplayContent; update: boolean }> = [];
    const cell = new AbortController();
    const hook: KernelHook = { sendDisplay: (content, update) => sent.push({ content, update }), cellSignal: () => cell.signal };
    installKernelHook(hook);
    globals["__tslab__"] = { require: () => ({}) }; // the hook wins over tslab
    expect(notebookSink()?.kind).toBe("tswren-kernel");
    const futures = jobFutures("M000", 1);
    const progress = notebookOrTerminalProgress(futures);
    expect(progress).toBeInstanceOf(NotebookProgress);
    endFuture(futures[0], true);
    progress.stop();
    expect(sent.map((s) => s.update)).toEqual([false, true]);
    const id = sent[0].content.transient.display_id;
    expect(id).toMatch(/^tswren-[0-9a-f]{16}$/);
    expect(sent[1].content).toEqual({ data: expect.objectContaining({ [PROGRESS_MIME]: expect.objectContaining({ finished: true, done: 1 }) }) as unknown, metadata: {}, transient: { display_id: id } });
    expect(notebookSink()?.cellToken()).toBe(cell.signal);
  });

  it("falls back to tslab's one-MIME display when the kernel's jupyter module is not loaded, preferring the richest type", () => {
    const raw: Array<[string, unknown]> = [];
    const tslabPublic = { newDisplay: () => ({ id: "abc", raw: (mime: string, data: unknown) => raw.push([mime, data]) }) };
    globals["__tslab__"] = { require: (id: string) => (id === "tslab" ? tslabPublic : undefined) };
    const sink = notebookSink();
    expect(sink?.kind).toBe("tslab-raw");
    const handle = sink!.show({ "text/plain": "p", "text/html": "<b>h</b>", [PROGRESS_MIME]: {} });
    handle.update({ "text/plain": "only text" });
    expect(raw).toEqual([["text/html", "<b>h</b>"], ["text/plain", "only text"]]);
    expect(handle.displayId).toBe("abc");
  });
});
