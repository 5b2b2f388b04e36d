import { afterAll, describe, expect, it } from "vitest";
import { functionExecutor, type FunctionExecutor } from "../../kernel-lib/src/index.js";
import { tempDir, testExecutor } from "../helpers/executor.js";

const nap = async (ms: number): Promise<number> => {
  await new Promise((r) => setTimeout(r, ms));
  return ms;
};

describe("fx.cost(futures): billed duration x memory, priced per backend", () => {
  const priced: FunctionExecutor = testExecutor(tempDir("cost"), { config: { localhost: { price_gb_s: 2, price_million_requests: 1_000_000, billing_ms: 100 } } });
  afterAll(() => priced.close());

  it("matches each call's worker time rounded up to billing_ms, times its memory, times the prices", async () => {
    const futures = await priced.map(nap, [10, 120, 250], { runtimeMemory: 512 });
    await priced.getResult(futures);
    const billed = futures.map((f) => {
      const ms = f.stat("workerExecMs") ?? Number.NaN;
      expect(ms).toBeGreaterThanOrEqual(f.stat("workerFuncExecMs") ?? 0);
      return Math.max(1, Math.ceil(ms / 100)) * 100;
    });
    expect(billed.every((ms) => ms % 100 === 0 && ms >= 100)).toBe(true);
    const cost = priced.cost(futures);
    const gbS = billed.reduce((a, ms) => a + (ms / 1000) * 0.5, 0);
    expect(cost).toMatchObject({ backend: "localhost", calls: 3, billedCalls: 3 });
    expect(cost.billedSeconds).toBeCloseTo(billed.reduce((a, b) => a + b, 0) / 1000, 9);
    expect(cost.gbSeconds).toBeCloseTo(gbS, 9);
    expect(cost.usd).toBeCloseTo(gbS * 2 + 3 * 1, 9); // 1 USD per request at 1e6 per million
  });

  it("without futures covers every call of the executor; calls that never ran are not billed", async () => {
    const all = priced.cost();
    expect(all.calls).toBeGreaterThanOrEqual(3);
    const [pending] = await priced.map(nap, [5_000]);
    await priced.cancel([pending]);
    expect(priced.cost([pending as never])).toMatchObject({ calls: 1, billedCalls: 0, usd: 0 });
  });

  it("is 0 USD on localhost by default, with the GB-seconds still counted", async () => {
    const fx = testExecutor(tempDir("cost-default"));
    try {
      const futures = await fx.map(nap, [20]);
      await fx.getResult(futures);
      const cost = fx.cost(futures);
      expect(cost.usd).toBe(0);
      expect(cost.gbSeconds).toBeGreaterThan(0);
      expect(cost.prices).toEqual({ price_gb_s: 0, price_million_requests: 0, billing_ms: 1 });
    } finally {
      await fx.close();
    }
  });

  it("refuses a negative price with a coded error naming the key", () => {
    expect(() => functionExecutor({ config: { localhost: { price_gb_s: -1 } } })).toThrow(/price_gb_s/);
  });
});
