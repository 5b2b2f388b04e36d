import { afterEach, describe, expect, it } from "vitest";
import { cancellableSubmission, cancellableWait, cancelSignal } from "../../kernel-lib/src/cancel.js";
import { ErrorCodes } from "../../kernel-lib/src/errors.js";
import type { ResponseFuture } from "../../kernel-lib/src/future.js";
import { installKernelHook } from "../../kernel-lib/src/notebook/kernel-hook.js";
import { caught } from "../helpers/caught.js";

const cell = new AbortController();

afterEach(() => {
  delete (globalThis as Record<string, unknown>)["__tswrenKernel"];
});

function withCellHook(signal: AbortSignal | undefined): void {
  installKernelHook({ sendDisplay: () => undefined, cellSignal: () => signal });
}

describe("ambient cancellation", () => {
  it("uses the caller's signal, the running cell's signal, or both", () => {
    const own = new AbortController();
    expect(cancelSignal()).toBeUndefined();
    expect(cancelSignal(own.signal)).toBe(own.signal);
    withCellHook(cell.signal);
    expect(cancelSignal()).toBe(cell.signal);
    const both = cancelSignal(own.signal);
    expect(both?.aborted).toBe(false);
    own.abort();
    expect(both?.aborted).toBe(true);
  });

  it("a wait aborted by its signal cancels its calls and rejects with TSWREN_CANCELLED", async () => {
    const controller = new AbortController();
    let cancelled = 0;
    let release = (): void => undefined;
    const waiting = cancellableWait("getResult", controller.signal, () => { cancelled++; release(); }, () => new Promise<void>((resolve) => { release = resolve; }));
    controller.abort();
    const err = await caught(waiting);
    expect(err.code).toBe(ErrorCodes.CANCELLED);
    expect(err.message).toMatch(/^getResult was cancelled/);
    expect(cancelled).toBe(1);
  });

  it("a submission interrupted before it finished rejects at once and cancels the job once it exists", async () => {
    const controller = new AbortController();
    let finish: (futures: ResponseFuture[]) => void = () => undefined;
    const submission = new Promise<ResponseFuture[]>((resolve) => { finish = resolve; });
    const seen: Array<readonly ResponseFuture[]> = [];
    const guarded = cancellableSubmission("map", submission, controller.signal, (futures) => { seen.push(futures); });
    controller.abort();
    expect((await caught(guarded)).code).toBe(ErrorCodes.CANCELLED);
    expect(seen).toEqual([]);
    const futures = [] as ResponseFuture[];
    finish(futures);
    await submission;
    await Promise.resolve();
    expect(seen).toEqual([futures]);
  });
});
