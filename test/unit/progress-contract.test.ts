/**
 * The progress MIME contract across its two sides: the library (kernel-lib, Node) builds the
 * bundles, the JupyterLab extension (browser bundle) reads them. The payload type, MIME type,
 * version and elapsed-time formatter are declared once, in the import-free module
 * kernel-lib/src/progress/payload.ts, which the extension imports as `tswren/progress-payload`.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as extension from "../../extension/src/payload.js";
import { progressBundle } from "../../kernel-lib/src/notebook/progress-model.js";
import * as declared from "../../kernel-lib/src/progress/payload.js";
import type { ProgressPayload, ProgressPayloadV1 } from "../../kernel-lib/src/progress/payload.js";

const root = new URL("../../", import.meta.url);

describe("progress payload contract between the library and the extension", () => {
  it("is declared once: the extension takes the MIME type, version and formatter from the library's module", () => {
    expect(extension.PROGRESS_MIME).toBe(declared.PROGRESS_MIME);
    expect(extension.PAYLOAD_VERSION).toBe(declared.PROGRESS_PAYLOAD_VERSION);
    expect(extension.formatElapsed(7325)).toBe(declared.formatElapsed(7325));
    const source = readFileSync(new URL("extension/src/payload.ts", root), "utf8");
    expect(source).toContain('from "tswren/progress-payload"');
    expect(source).not.toMatch(/application\/vnd\.tswren|interface ProgressPayload/);
  });

  it("the declaring module imports nothing (the browser bundle takes it as is)", () => {
    const source = readFileSync(new URL("kernel-lib/src/progress/payload.ts", root), "utf8");
    expect(source).not.toMatch(/^\s*(import|export .* from)\b/m);
  });

  it("the extension accepts, field for field, every bundle the library builds", () => {
    const payloads: ProgressPayload[] = [
      { version: 2, jobId: "M000", label: "map double, 100 calls", total: 100, done: 40, failed: 1, cancelled: 0, running: 8, elapsedSeconds: 3.2, finished: false },
      { version: 2, jobId: "R001", label: "reduce, 1 call", total: 1, done: 1, failed: 0, cancelled: 0, running: 0, elapsedSeconds: 0, finished: true },
      { version: 2, jobId: "A002", label: "callAsync, 0 calls", total: 0, done: 0, failed: 0, cancelled: 0, running: 0, elapsedSeconds: 12.5, finished: true },
      { version: 2, jobId: "M003", label: "map slow, 10 calls", total: 10, done: 2, failed: 1, cancelled: 7, running: 0, elapsedSeconds: 4, finished: true },
      { version: 2, jobId: "M004", label: "map, 10 calls", total: 10, done: 2, failed: 0, cancelled: 0, running: 8, elapsedSeconds: 4, finished: true, stopped: "kernel shut down" },
    ];
    for (const payload of payloads) {
      const data = progressBundle(payload)[declared.PROGRESS_MIME];
      // Through JSON, as Jupyter carries it.
      expect(extension.parsePayload(JSON.parse(JSON.stringify(data)))).toEqual({ ok: true, payload });
    }
  });

  it("the extension still reads version 1 payloads (saved notebooks, older kernels): no cancelled count", () => {
    const v1: ProgressPayloadV1 = { version: 1, jobId: "M000", label: "map", total: 100, done: 40, failed: 1, running: 8, elapsedSeconds: 3.2, finished: false };
    expect(extension.parsePayload(v1)).toEqual({ ok: true, payload: { ...v1, cancelled: 0 } });
  });
});
