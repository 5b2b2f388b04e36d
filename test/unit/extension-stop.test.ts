// @vitest-environment jsdom
/// <reference lib="dom" />
/**
 * The extension's kernel-status plugin logic on JupyterLab's real OutputArea: unfinished progress
 * bars of a cell become `stopped: <reason>` in place (payload and both fallbacks rewritten, as the
 * saved notebook keeps them); finished bars and other outputs are untouched.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

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
const { PROGRESS_MIME, rendererFactory } = await import("../../extension/src/index.js");
const { stopOutputs, stopReason } = await import("../../extension/src/stop-outputs.js");
const { progressBundle } = await import("../../kernel-lib/src/progress/payload.js");
type OutputAreaModel = import("@jupyterlab/outputarea").OutputAreaModel;
type OutputArea = import("@jupyterlab/outputarea").OutputArea;
type Output = Parameters<OutputAreaModel["add"]>[0];

function bar(over: Record<string, unknown> = {}): Output {
  const payload = { version: 2 as const, jobId: "M000", label: "map slow, 10 calls", total: 10, done: 7, failed: 0, cancelled: 0, running: 2, elapsedSeconds: 4.2, finished: false, ...over };
  return { output_type: "display_data", data: progressBundle(payload) as unknown as Output["data"], metadata: {} };
}

let model: OutputAreaModel;
let area: OutputArea;

beforeEach(() => {
  model = new OutputAreaModel({ trusted: true });
  area = new OutputArea({ model, rendermime: new RenderMimeRegistry({ initialFactories: [...standardRendererFactories, rendererFactory] }) });
  Widget.attach(area, document.body);
});

afterEach(() => {
  area.dispose();
  model.dispose();
  document.body.innerHTML = "";
});

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

describe("marking unfinished progress bars stopped (kernel restarted or died)", () => {
  it("maps the kernel statuses JupyterLab reports to reasons", () => {
    expect(stopReason("restarting")).toBe("kernel restarted");
    expect(stopReason("autorestarting")).toBe("kernel died and was restarted");
    expect(stopReason("dead")).toBe("kernel died");
    for (const status of ["idle", "busy", "starting", "unknown", "terminating"]) expect(stopReason(status)).toBeUndefined();
  });

  it("rewrites an unfinished bar in place: payload, text/plain and text/html say stopped; 0 running", async () => {
    model.add({ output_type: "stream", name: "stdout", text: "started\n" });
    model.add(bar());
    model.add(bar({ jobId: "M001", done: 10, running: 0, finished: true }));
    await settle();
    const node = area.node.querySelector<HTMLElement>(".tswren-progress")!;
    expect(node.querySelector(".tswren-progress-status")!.textContent).toBe("70%");
    expect(stopOutputs(model, "kernel restarted")).toBe(1);
    await settle();
    expect(area.node.querySelector(".tswren-progress")).toBe(node); // re-rendered in place
    expect(node.querySelector(".tswren-progress-status")!.textContent).toBe("stopped: kernel restarted");
    expect(node.querySelector(".tswren-progress-counts")!.textContent).toBe("7 done / 0 running / 0 failed / 10 total");
    expect(node.classList.contains("tswren-progress-stopped")).toBe(true);
    const saved = model.toJSON();
    const data = saved[1]["data"] as Record<string, unknown>;
    expect(data[PROGRESS_MIME]).toMatchObject({ jobId: "M000", finished: true, running: 0, stopped: "kernel restarted", done: 7 });
    expect(data["text/plain"]).toContain("stopped: kernel restarted");
    const html = new DOMParser().parseFromString(String(data["text/html"]), "text/html");
    expect(html.querySelector("span")!.textContent).toContain("stopped: kernel restarted");
    expect(saved[0]).toMatchObject({ output_type: "stream", text: "started\n" });
    expect((saved[2]["data"] as Record<string, { finished: boolean; stopped?: string }>)[PROGRESS_MIME]).not.toHaveProperty("stopped");
  });

  it("stops a version 1 bar of an older kernel as version 2, and leaves bad payloads alone", () => {
    const v1 = { version: 1, jobId: "M000", label: "map", total: 4, done: 1, failed: 0, running: 1, elapsedSeconds: 1, finished: false };
    model.add({ output_type: "display_data", data: { [PROGRESS_MIME]: v1, "text/plain": "old" } as Output["data"], metadata: {} });
    model.add({ output_type: "display_data", data: { [PROGRESS_MIME]: { version: 2 }, "text/plain": "bad" } as Output["data"], metadata: {} });
    expect(stopOutputs(model, "kernel died")).toBe(1);
    const saved = model.toJSON();
    expect((saved[0]["data"] as Record<string, unknown>)[PROGRESS_MIME]).toMatchObject({ version: 2, cancelled: 0, finished: true, stopped: "kernel died" });
    expect((saved[1]["data"] as Record<string, unknown>)["text/plain"]).toBe("bad");
    expect(stopOutputs(model, "kernel died")).toBe(0); // already stopped: nothing to do
  });
});
