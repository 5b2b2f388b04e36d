/**
 * The progress MIME contract across its two sides: the library (kernel-lib, Node) builds the
 * bundles, the JupyterLab extension (browser bundle, its own copy of the payload type) reads
 * them. Both must agree on the MIME type, the version and every field.
 */
import { describe, expect, it } from "vitest";
import { PAYLOAD_VERSION, PROGRESS_MIME as EXTENSION_MIME, parsePayload } from "../../extension/src/payload.js";
import { PROGRESS_MIME, PROGRESS_PAYLOAD_VERSION, progressBundle, type ProgressPayload } from "../../kernel-lib/src/notebook/progress-model.js";

describe("progress payload contract between the library and the extension", () => {
  it("uses one MIME type and version", () => {
    expect(EXTENSION_MIME).toBe(PROGRESS_MIME);
    expect(PAYLOAD_VERSION).toBe(PROGRESS_PAYLOAD_VERSION);
  });

  it("the extension accepts, field for field, every bundle the library builds", () => {
    const payloads: ProgressPayload[] = [
      { version: 1, jobId: "M000", label: "map", total: 100, done: 40, failed: 1, running: 8, elapsedSeconds: 3.2, finished: false },
      { version: 1, jobId: "R001", label: "reduce", total: 1, done: 1, failed: 0, running: 0, elapsedSeconds: 0, finished: true },
      { version: 1, jobId: "A002", label: "callAsync", total: 0, done: 0, failed: 0, running: 0, elapsedSeconds: 12.5, finished: true },
    ];
    for (const payload of payloads) {
      const data = progressBundle(payload)[PROGRESS_MIME];
      // Through JSON, as Jupyter carries it.
      expect(parsePayload(JSON.parse(JSON.stringify(data)))).toEqual({ ok: true, payload });
    }
  });
});
