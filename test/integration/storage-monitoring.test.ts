import { afterAll, describe, expect, it } from "vitest";
import type { FunctionExecutor } from "../../kernel-lib/src/index.js";
import { tempDir, testExecutor } from "../helpers/executor.js";
import { expectClassicExamples, expectErrorsTimeoutsRetries, expectStatsInOrder, expectStoredRecords } from "../helpers/classic.js";

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
    await expectStoredRecords(fx, futures[0]?.jobId, 300);
  });

  it("reports remote errors, timeouts and retries through storage", async () => {
    await expectErrorsTimeoutsRetries(fx);
  });

  it("orders stats from job creation to result", async () => {
    const futures = await fx.map((x: number) => x, [1, 2]);
    await fx.getResult(futures);
    expectStatsInOrder(futures);
  });
});
