import { afterAll, describe, expect, it } from "vitest";
import type { FunctionExecutor } from "../../kernel-lib/src/index.js";
import { tempDir, testExecutor } from "../helpers/executor.js";
import { expectClassicExamples } from "../helpers/classic.js";

// `monitoring: "storage"`: the client learns about calls only by listing and reading job keys in
// storage (as on OpenWhisk), here with the localhost worker pool so it runs anywhere.

const root = tempDir("storage-monitoring");
const fx: FunctionExecutor = testExecutor(root, { monitoring: "storage" });
afterAll(() => fx.close());

describe("storage-polling monitoring", () => {
  it("gives the classic results: [8, 9, 10, 11], 10 and 38", async () => {
    await expectClassicExamples(fx);
  });

  it("keeps order over 300 calls and sees each call's start marker", async () => {
    const items = Array.from({ length: 300 }, (_, i) => i);
    const futures = await fx.map((x: number) => x * 2, items);
    expect(await fx.getResult(futures)).toEqual(items.map((x) => x * 2));
    const storage = await fx.storage();
    const keys = await storage.listKeys(`tswren.jobs/${fx.executorId}-${futures[0]?.jobId}/`);
    expect(keys.filter((k) => k.endsWith("/start"))).toHaveLength(300);
    expect(keys.filter((k) => k.endsWith("/status.json"))).toHaveLength(300);
  });

  it("reports remote errors, timeouts and retries through storage", async () => {
    const futures = await fx.map((x: number, ctx) => {
      if (x === 1) throw new TypeError("one is bad");
      if (x === 2) for (;;) { /* past the timeout */ }
      if (x === 3 && ctx.attempt < 2) throw new Error("flaky");
      return x;
    }, [0, 1, 2, 3], { timeout: 1, retries: 1 });
    expect(await fx.getResult(futures, { throwExcept: false })).toEqual([0, null, null, 3]);
    expect(futures[1]?.error?.message).toContain("one is bad");
    expect(futures[1]?.attempt).toBe(2);
    expect(futures[2]?.error).toMatchObject({ code: "TSWREN_TIMEOUT" });
    expect(futures[3]?.attempt).toBe(2);
  });

  it("orders stats from job creation to result", async () => {
    const futures = await fx.map((x: number) => x, [1, 2]);
    await fx.getResult(futures);
    for (const f of futures) {
      const s = f.stats;
      const order = [s.hostJobCreateMs, s.hostSubmitMs, s.workerStartMs, s.workerFuncStartMs, s.workerFuncEndMs, s.workerEndMs, s.hostStatusDoneMs, s.hostResultDoneMs] as number[];
      expect([...order].sort((a, b) => a - b)).toEqual(order);
    }
  });
});
