// @vitest-environment jsdom
/// <reference lib="dom" />
/**
 * The progress renderer inside JupyterLab's real OutputArea and RenderMimeRegistry, with the
 * standard renderers registered beside it (as in JupyterLab): it wins over text/html, an
 * update_display_data re-renders the same node in place, disposal leaves nothing behind, and bad
 * payloads become a clear message.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

// jsdom lacks DragEvent (subclassed by @lumino/dragdrop at load) and matchMedia (called by the
// toolkit's design tokens at load); JupyterLab's own test setup adds the same two shims. They must
// exist before the JupyterLab modules are imported.
vi.hoisted(() => {
  const g = globalThis as { DragEvent?: unknown; matchMedia?: unknown };
  g.DragEvent ??= class DragEvent extends MouseEvent {};
  g.matchMedia ??= (query: string): MediaQueryList => {
    const list = new EventTarget() as MediaQueryList & { matches: boolean; media: string };
    Object.assign(list, { matches: false, media: query, onchange: null, addListener: () => undefined, removeListener: () => undefined });
    return list;
  };
});

const { OutputArea, OutputAreaModel } = await import("@jupyterlab/outputarea");
const { RenderMimeRegistry, standardRendererFactories } = await import("@jupyterlab/rendermime");
const { Widget } = await import("@lumino/widgets");
const { default: extension, PROGRESS_MIME, ProgressRenderer, rendererFactory } = await import("../../extension/src/index.js");
type OutputArea = import("@jupyterlab/outputarea").OutputArea;
type OutputAreaModel = import("@jupyterlab/outputarea").OutputAreaModel;
type Widget = import("@lumino/widgets").Widget;
type ProgressRenderer = import("../../extension/src/index.js").ProgressRenderer;
/** One notebook output (nbformat `IOutput`). */
type Output = Parameters<OutputAreaModel["add"]>[0];
/** A MIME bundle. */
type Bundle = Parameters<import("@jupyterlab/rendermime").RenderMimeRegistry["preferredMimeType"]>[0];

type Payload = Record<string, unknown>;

function payload(over: Payload = {}): Payload {
  return { version: 1, jobId: "M000", label: "map", total: 100, done: 40, failed: 1, running: 8, elapsedSeconds: 3.2, finished: false, ...over };
}

/** A display_data output as the kernel sends it: progress JSON plus HTML and plain fallbacks. */
function bundle(data: unknown): Bundle {
  return { [PROGRESS_MIME]: data, "text/html": "<progress value=\"40\" max=\"100\"></progress>", "text/plain": "map M000: 40/100" } as Bundle;
}

function display(data: unknown): Output {
  return { output_type: "display_data", data: bundle(data) as Output["data"], metadata: {} };
}

let area: OutputArea;
let model: OutputAreaModel;

beforeEach(() => {
  const rendermime = new RenderMimeRegistry({ initialFactories: [...standardRendererFactories, rendererFactory] });
  model = new OutputAreaModel({ trusted: true });
  area = new OutputArea({ model, rendermime });
  Widget.attach(area, document.body);
});

afterEach(() => {
  if (!area.isDisposed) area.dispose();
  if (!model.isDisposed) model.dispose();
  document.body.innerHTML = "";
});

function progressNodes(): HTMLElement[] {
  return Array.from(document.querySelectorAll<HTMLElement>(".tswren-progress"));
}

/** Let the renderer's promise (and the OutputArea's) settle. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe("progress renderer in JupyterLab's OutputArea", () => {
  it("is preferred over text/html (rank 40 < 50) and shows label, bar, counts, elapsed", async () => {
    expect(extension.rank).toBe(40);
    expect(area.rendermime.preferredMimeType(bundle(payload()), "any")).toBe(PROGRESS_MIME);
    model.add(display(payload()));
    await settle();
    const [node] = progressNodes();
    expect(progressNodes()).toHaveLength(1);
    expect(area.node.querySelector("progress")).toBeNull(); // the html fallback is not rendered
    expect(node.querySelector(".tswren-progress-title")!.textContent).toBe("map M000");
    expect(node.querySelector(".tswren-progress-counts")!.textContent).toBe("40 done / 8 running / 1 failed / 100 total");
    expect(node.querySelector(".tswren-progress-elapsed")!.textContent).toBe("3.2 s");
    expect(node.querySelector(".tswren-progress-status")!.textContent).toBe("41%");
    const bar = node.querySelector("[role=progressbar]")!;
    expect(bar.getAttribute("aria-valuenow")).toBe("41");
    expect(node.querySelector<HTMLElement>(".tswren-progress-done")!.style.width).toBe("40%");
    expect(node.querySelector<HTMLElement>(".tswren-progress-failed")!.style.width).toBe("1%");
    expect(node.classList.contains("tswren-progress-has-failed")).toBe(true);
    expect(node.classList.contains("tswren-progress-finished")).toBe(false);
  });

  it("re-renders in place on update_display_data (same node, new values, finished state)", async () => {
    model.add(display(payload({ done: 0, failed: 0, running: 4, elapsedSeconds: 0.1 })));
    await settle();
    const [first] = progressNodes();
    const widget = area.widgets[0];
    for (const done of [10, 55, 99]) {
      // What OutputArea does for update_display_data: set the output at the display id's index.
      model.set(0, display(payload({ done, failed: 0, running: 4, elapsedSeconds: done / 10 })));
      await settle();
      expect(progressNodes()).toEqual([first]);
      expect(first.dataset.done).toBe(String(done));
      expect(first.querySelector("[role=progressbar]")!.getAttribute("aria-valuenow")).toBe(String(done));
    }
    model.set(0, display(payload({ done: 98, failed: 2, running: 0, elapsedSeconds: 75, finished: true })));
    await settle();
    expect(progressNodes()).toEqual([first]);
    expect(area.widgets[0]).toBe(widget);
    expect(first.classList.contains("tswren-progress-finished")).toBe(true);
    expect(first.querySelector(".tswren-progress-status")!.textContent).toBe("finished, 2 failed");
    expect(first.querySelector("[role=progressbar]")!.getAttribute("aria-valuenow")).toBe("100");
    expect(first.querySelector(".tswren-progress-elapsed")!.textContent).toBe("1 min 15 s");
    // No stale children piled up by repeated renders.
    expect(first.querySelectorAll(".tswren-progress-bar")).toHaveLength(1);
    expect(first.querySelectorAll(".tswren-progress-done")).toHaveLength(1);
  });

  it("disposes cleanly: clearing and disposing leave no nodes and a disposed renderer", async () => {
    model.add(display(payload()));
    await settle();
    const renderer = findRenderer();
    model.clear();
    await settle();
    expect(renderer.isDisposed).toBe(true);
    expect(progressNodes()).toHaveLength(0);
    model.add(display(payload()));
    await settle();
    const second = findRenderer();
    area.dispose();
    expect(second.isDisposed).toBe(true);
    expect(document.body.children).toHaveLength(0);
    expect(() => second.dispose()).not.toThrow(); // a second dispose is harmless
  });

  it.each([
    ["not an object", "loading", /expected a JSON object/],
    ["a missing field", payload({ total: undefined }), /"total" must be a non-negative integer, got nothing/],
    ["a negative count", payload({ failed: -1 }), /"failed" must be a non-negative integer, got -1/],
    ["counts over total", payload({ done: 100, failed: 5 }), /done \(100\) \+ failed \(5\) \+ cancelled \(0\) exceeds total \(100\)/],
    ["a version 2 payload without cancelled", payload({ version: 2 }), /"cancelled" must be a non-negative integer, got nothing/],
    ["a non-boolean finished", payload({ finished: "yes" }), /"finished" must be true or false, got "yes"/],
  ])("shows a clear message for %s, without throwing", async (_name, data, reason) => {
    model.add(display(data));
    await settle();
    const [node] = progressNodes();
    expect(node.classList.contains("tswren-progress-invalid")).toBe(true);
    expect(node.querySelector(".tswren-progress-message")!.textContent).toMatch(reason);
    expect(node.querySelector<HTMLElement>(".tswren-progress-bar")!.hidden).toBe(true);
    expect(node.querySelector(".tswren-progress-counts")!.textContent).toBe("map M000: 40/100"); // text/plain fallback
    // A good update after a bad one recovers in place.
    model.set(0, display(payload()));
    await settle();
    expect(progressNodes()).toEqual([node]);
    expect(node.classList.contains("tswren-progress-invalid")).toBe(false);
    expect(node.querySelector<HTMLElement>(".tswren-progress-message")!.hidden).toBe(true);
  });

  it("renders a newer payload version it can read, with a note to update the extension", async () => {
    model.add(display(payload({ version: 3, cancelled: 0, extra: "field" })));
    await settle();
    const [node] = progressNodes();
    expect(node.querySelector(".tswren-progress-counts")!.textContent).toContain("40 done");
    expect(node.querySelector(".tswren-progress-message")!.textContent).toMatch(/version 3 is newer.*update @tswren\/jupyterlab-progress/);
  });

  it("draws cancelled calls grey and says cancelled (n), not failed (payload version 2)", async () => {
    model.add(display(payload({ version: 2, done: 30, failed: 0, cancelled: 70, running: 0, finished: true })));
    await settle();
    const [node] = progressNodes();
    expect(node.querySelector(".tswren-progress-status")!.textContent).toBe("finished, cancelled (70)");
    expect(node.querySelector(".tswren-progress-counts")!.textContent).toBe("30 done / 0 running / 0 failed / cancelled (70) / 100 total");
    expect(node.querySelector<HTMLElement>(".tswren-progress-cancelled")!.style.width).toBe("70%");
    expect(node.querySelector<HTMLElement>(".tswren-progress-failed")!.style.width).toBe("0%");
    expect(node.classList.contains("tswren-progress-has-failed")).toBe(false);
    expect(node.classList.contains("tswren-progress-has-cancelled")).toBe(true);
    expect(node.querySelector<HTMLElement>(".tswren-progress-message")!.hidden).toBe(true);
  });

  it("renders a version 1 payload of an older kernel (no cancelled count) without a warning", async () => {
    model.add(display(payload({ version: 1 })));
    await settle();
    const [node] = progressNodes();
    expect(node.querySelector(".tswren-progress-counts")!.textContent).toBe("40 done / 8 running / 1 failed / 100 total");
    expect(node.querySelector<HTMLElement>(".tswren-progress-message")!.hidden).toBe(true);
  });

  it("says why a bar stopped before its calls ended", async () => {
    model.add(display(payload({ version: 2, cancelled: 0, finished: true, stopped: "kernel shut down" })));
    await settle();
    const [node] = progressNodes();
    expect(node.querySelector(".tswren-progress-status")!.textContent).toBe("stopped: kernel shut down");
    expect(node.classList.contains("tswren-progress-stopped")).toBe(true);
  });
});

function findRenderer(): ProgressRenderer {
  const panel = area.widgets[0] as Widget & { widgets?: readonly Widget[] };
  const found = (panel.widgets ?? [panel]).find((w) => w instanceof ProgressRenderer);
  if (!(found instanceof ProgressRenderer)) throw new Error("no ProgressRenderer in the output area");
  return found;
}
