// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { DisplayHandle, DisplaySink } from "../../kernel-lib/src/notebook/display.js";
import { NotebookProgress } from "../../kernel-lib/src/notebook/notebook-progress.js";
import { PROGRESS_MIME, progressBundle, type ProgressPayload } from "../../kernel-lib/src/notebook/progress-model.js";
import { ErrorCodes } from "../../kernel-lib/src/errors.js";
import { endFuture, jobFutures } from "../helpers/futures.js";

interface Sent {
  displayId: string;
  update: boolean;
  atMs: number;
  data: Record<string, unknown>;
}

/** A sink that records what would go on IOPub; `cell` plays the running cell's identity. */
function recordingSink(): DisplaySink & { sent: Sent[]; cell: object } {
  let n = 0;
  const sink = {
    kind: "tswren-kernel" as const,
    sent: [] as Sent[],
    cell: {},
    cellToken: () => sink.cell,
    show(data: Record<string, unknown>): DisplayHandle {
      const displayId = `d${n++}`;
      sink.sent.push({ displayId, update: false, atMs: Date.now(), data });
      return { displayId, update: (next) => { sink.sent.push({ displayId, update: true, atMs: Date.now(), data: next }); } };
    },
  };
  return sink;
}

const payloadOf = (s: Sent): ProgressPayload => s.data[PROGRESS_MIME] as ProgressPayload;

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe("progress bundle", () => {
  it("carries the payload with exactly the contract's fields, an HTML <progress> bar and plain text", () => {
    const payload: ProgressPayload = { version: 2, jobId: "M000", label: "map double, 100 calls", total: 100, done: 40, failed: 1, cancelled: 0, running: 8, elapsedSeconds: 3.2, finished: false };
    const bundle = progressBundle(payload);
    expect(Object.keys(bundle).sort()).toEqual([PROGRESS_MIME, "text/html", "text/plain"].sort());
    expect(JSON.parse(JSON.stringify(bundle[PROGRESS_MIME]))).toEqual({ version: 2, jobId: "M000", label: "map double, 100 calls", total: 100, done: 40, failed: 1, cancelled: 0, running: 8, elapsedSeconds: 3.2, finished: false });
    expect(bundle["text/html"]).toContain('<progress value="41" max="100"');
    expect(bundle["text/html"]).toContain("40 done, 1 failed, 8 running");
    expect(bundle["text/plain"]).toMatch(/^tswren map double, 100 calls \(M000\) \[#{12}-{18}\] 41\/100 calls ended: 40 done, 1 failed, 8 running \| 3\.2 s$/);
    expect(progressBundle({ ...payload, done: 99, elapsedSeconds: 75.4, finished: true })["text/plain"]).toMatch(/100\/100 calls ended: 99 done, 1 failed, finished \| 1 min 15 s$/);
  });

  it("says cancelled (n), not failed, in the text and HTML fallbacks, with a grey bar", () => {
    const payload: ProgressPayload = { version: 2, jobId: "M001", label: "map slow, 10 calls", total: 10, done: 4, failed: 0, cancelled: 6, running: 0, elapsedSeconds: 2, finished: true };
    const bundle = progressBundle(payload);
    expect(bundle["text/plain"]).toContain("10/10 calls ended: 4 done, 0 failed, cancelled (6), finished");
    const doc = new DOMParser().parseFromString(bundle["text/html"], "text/html");
    expect(doc.body.textContent).toContain("cancelled (6)");
    expect(doc.querySelector("progress")!.getAttribute("style")).toContain("accent-color:#9e9e9e");
    const stopped = progressBundle({ ...payload, cancelled: 0, running: 6, finished: true, stopped: "kernel shut down" });
    expect(stopped["text/plain"]).toContain("4/10 calls ended: 4 done, 0 failed, stopped: kernel shut down");
  });

  it("gives <progress> one style attribute that keeps its width when calls failed (parsed as a browser does)", () => {
    for (const failed of [0, 3]) {
      const html = progressBundle({ version: 2, jobId: "M002", label: "map, 10 calls", total: 10, done: 7 - failed, failed, cancelled: 0, running: 3, elapsedSeconds: 1, finished: false })["text/html"];
      expect(html.match(/<progress\b[^>]*>/)![0].match(/\sstyle=/g)).toHaveLength(1);
      const bar = new DOMParser().parseFromString(html, "text/html").querySelector("progress")!;
      expect(bar.style.width).toBe("240px");
      expect(bar.style.getPropertyValue("accent-color")).toBe(failed > 0 ? "rgb(198, 40, 40)" : "");
      expect([bar.value, bar.max]).toEqual([7, 10]);
    }
  });
});

describe("notebook progress display", () => {
  it("shows one display per job and updates it at most 4 times a second, ending with finished: true", () => {
    const sink = recordingSink();
    const futures = jobFutures("M000", 100, Date.now());
    const progress = new NotebookProgress(sink, futures);
    expect(sink.sent).toHaveLength(1);
    expect(sink.sent[0].update).toBe(false);
    expect(payloadOf(sink.sent[0])).toMatchObject({ jobId: "M000", label: "map, 100 calls", total: 100, done: 0, finished: false });
    for (const [i, f] of futures.entries()) {
      vi.advanceTimersByTime(20); // a call ends every 20 ms: 50 a second
      f.markRunning(Date.now());
      endFuture(f, i % 10 !== 0);
      progress.update();
    }
    progress.stop();
    const updates = sink.sent.filter((s) => s.update);
    expect(new Set(sink.sent.map((s) => s.displayId))).toEqual(new Set(["d0"]));
    for (let i = 1; i < updates.length - 1; i++) expect(updates[i].atMs - updates[i - 1].atMs).toBeGreaterThanOrEqual(250);
    expect(updates.length).toBeLessThanOrEqual(2 * 4 + 2);
    expect(updates.length).toBeGreaterThanOrEqual(6);
    const last = payloadOf(updates[updates.length - 1]);
    expect(last).toEqual({ version: 2, jobId: "M000", label: "map, 100 calls", total: 100, done: 90, failed: 10, cancelled: 0, running: 0, elapsedSeconds: 2, finished: true });
    expect(updates.slice(0, -1).every((u) => !payloadOf(u).finished)).toBe(true);
    vi.advanceTimersByTime(5000);
    expect(sink.sent.filter((s) => s.update)).toHaveLength(updates.length);
  });

  it("refreshes running counts and elapsed time about once a second while nothing ends", () => {
    const sink = recordingSink();
    const futures = jobFutures("A001", 2, Date.now());
    const progress = new NotebookProgress(sink, futures);
    futures[0].markRunning(Date.now());
    vi.advanceTimersByTime(300);
    expect(payloadOf(sink.sent.at(-1)!)).toMatchObject({ label: "callAsync, 2 calls", running: 1 });
    vi.advanceTimersByTime(3000);
    const updates = sink.sent.filter((s) => s.update);
    expect(updates.length).toBeGreaterThanOrEqual(3);
    expect(updates.length).toBeLessThanOrEqual(5);
    expect(payloadOf(updates.at(-1)!).elapsedSeconds).toBeGreaterThanOrEqual(3);
    futures[1].failLocally(ErrorCodes.CANCELLED, "cancelled", "cancelled");
    endFuture(futures[0], true);
    progress.stop();
    expect(payloadOf(sink.sent.at(-1)!)).toMatchObject({ done: 1, failed: 0, cancelled: 1, running: 0, finished: true });
  });

  it("keeps updating after a wait returned early, until the calls end", () => {
    const sink = recordingSink();
    const futures = jobFutures("M002", 3, Date.now());
    const progress = new NotebookProgress(sink, futures);
    endFuture(futures[0], true);
    progress.stop(); // wait(..., ANY_COMPLETED) returned
    expect(payloadOf(sink.sent.at(-1)!).finished).toBe(false);
    endFuture(futures[1], true);
    endFuture(futures[2], true);
    vi.advanceTimersByTime(300);
    expect(payloadOf(sink.sent.at(-1)!)).toMatchObject({ done: 3, finished: true });
  });

  it("shares the display between waits on a job in one cell and makes a new one in a later cell while calls run", () => {
    const sink = recordingSink();
    const futures = jobFutures("M003", 4, Date.now());
    const first = new NotebookProgress(sink, futures);
    const second = new NotebookProgress(sink, futures.slice(2));
    expect(second.displays[0]).toBe(first.displays[0]);
    sink.cell = {}; // the next cell
    const third = new NotebookProgress(sink, futures);
    expect(third.displays[0].displayId).not.toBe(first.displays[0].displayId);
    for (const f of futures) endFuture(f, true);
    third.update();
    first.update();
    expect(first.displays[0].finished && third.displays[0].finished).toBe(true);
    sink.cell = {};
    expect(new NotebookProgress(sink, futures).displays).toHaveLength(0); // nothing new to show
  });

  it("shows one display per job when a wait spans jobs", () => {
    const sink = recordingSink();
    const progress = new NotebookProgress(sink, [...jobFutures("M004", 2), ...jobFutures("R005", 1)]);
    expect(progress.displays.map((d) => d.jobId)).toEqual(["M004", "R005"]);
    expect(sink.sent.map((s) => payloadOf(s).label)).toEqual(["map, 2 calls", "reduce, 1 call"]);
  });
});
