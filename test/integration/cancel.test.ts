import { afterAll, describe, expect, it } from "vitest";
import { ErrorCodes } from "../../kernel-lib/src/index.js";
import { caught } from "../helpers/caught.js";
import { tempDir, testExecutor } from "../helpers/executor.js";

// Cancelling a job from a script: the `signal` option of getResult / wait and fx.cancel(), on real
// local worker processes (2, all kept busy by calls that would run for two minutes).

const fx = testExecutor(tempDir("cancel"), { config: { localhost: { worker_processes: 2 } } });
afterAll(() => fx.close());

const busy = (x: number): number => {
  const end = Date.now() + 120_000;
  while (Date.now() < end);
  return x;
};

describe("cancelling jobs", () => {
  it("an aborted getResult signal cancels the calls at once and the executor runs the next job", async () => {
    const futures = await fx.map(busy, [1, 2, 3, 4], { timeout: 300 });
    await Promise.all(futures.slice(0, 2).map((f) => new Promise<void>((resolve) => {
      const check = (): void => { if (f.status === "running") resolve(); else setImmediate(check); };
      check();
    })));
    const controller = new AbortController();
    const pending = caught(fx.getResult(futures, { signal: controller.signal }));
    const abortedAt = Date.now();
    controller.abort();
    const err = await pending;
    expect(Date.now() - abortedAt).toBeLessThan(1_000);
    expect(err.code).toBe(ErrorCodes.CANCELLED);
    expect(err.message).toMatch(/getResult was cancelled/);
    expect(futures.map((f) => f.status)).toEqual(["cancelled", "cancelled", "cancelled", "cancelled"]);
    expect(futures[0]?.error).toMatchObject({ code: ErrorCodes.CANCELLED });
    // Both workers were running 120 s calls: this finishes only if they were stopped.
    await fx.map((x: number) => x + 1, [1, 2, 3]);
    expect(await fx.getResult()).toEqual([2, 3, 4]);
  });

  it("an aborted wait signal rejects with TSWREN_CANCELLED, and fx.cancel() ends every call left", async () => {
    const futures = await fx.map(busy, [1, 2], { timeout: 300 });
    const controller = new AbortController();
    controller.abort();
    expect((await caught(fx.wait(futures, { signal: controller.signal }))).code).toBe(ErrorCodes.CANCELLED);
    expect(futures.every((f) => f.status === "cancelled")).toBe(true);
    const more = await fx.map(busy, [3], { timeout: 300 });
    await fx.cancel();
    expect(more[0]?.status).toBe("cancelled");
    expect(await fx.getResult(await fx.callAsync((x: number) => x * 2, 21))).toEqual([42]);
  });
});
