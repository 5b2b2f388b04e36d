import { afterAll, describe, expect, it } from "vitest";
import type { CompletedResult, FunctionExecutor } from "../../kernel-lib/src/index.js";
import { tempDir, testExecutor } from "../helpers/executor.js";

const fx: FunctionExecutor = testExecutor(tempDir("results-iter"), { config: { localhost: { worker_processes: 4 } } });
afterAll(() => fx.close());

const sleepThen = async (ms: number): Promise<number> => {
  await new Promise((r) => setTimeout(r, ms));
  if (ms === 13) throw new Error("thirteen is unlucky");
  return ms;
};

describe("fx.results(futures): results in completion order", () => {
  it("yields every call once as it ends, with its index, value or error, in the order the calls ended", async () => {
    const items = [1, 0, 13, 2, 3000];
    const futures = await fx.map(sleepThen, items);
    const seen: CompletedResult<number>[] = [];
    for await (const r of fx.results(futures)) {
      expect(r.future.done).toBe(true);
      seen.push(r);
    }
    expect(seen.map((r) => r.index).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(seen.at(-1)?.index).toBe(4); // the 3 s call ends last
    const ended = seen.map((r) => r.future.stat("hostStatusDoneMs") ?? 0);
    expect(ended).toEqual([...ended].sort((a, b) => a - b));
    for (const r of seen) {
      if (r.index === 2) expect(r.ok ? null : r.error.message).toContain("thirteen is unlucky");
      else expect(r.ok ? r.value : r.error).toBe(items[r.index]);
    }
    expect(futures.every((f) => f.read && f.listenerCount() === 0)).toBe(true);
  });

  it("stops cleanly on break: the loop leaves no listener behind, the other calls run on and stay unread", async () => {
    const futures = await fx.map(sleepThen, [0, 1500, 1600]);
    // The executor's own listeners (the job record's end) stay; the loop's are removed.
    const before = futures.map((f) => f.listenerCount());
    for await (const r of fx.results(futures)) {
      expect(r.index).toBe(0);
      break;
    }
    expect(futures.slice(1).map((f) => f.listenerCount())).toEqual(before.slice(1));
    expect(futures.slice(1).every((f) => !f.read)).toBe(true);
    expect(await fx.getResult()).toEqual([1500, 1600]);
  });

  it("an aborted loop cancels the calls not ended and throws TSWREN_CANCELLED", async () => {
    const futures = await fx.map(sleepThen, [0, 20_000, 20_000]);
    const ctl = new AbortController();
    const got: number[] = [];
    const loop = (async () => {
      for await (const r of fx.results(futures, { signal: ctl.signal })) {
        got.push(r.index);
        ctl.abort();
      }
    })();
    await expect(loop).rejects.toMatchObject({ code: "TSWREN_CANCELLED" });
    expect(got).toEqual([0]);
    await Promise.all(futures.map((f) => f.settled()));
    expect(futures.slice(1).map((f) => f.status)).toEqual(["cancelled", "cancelled"]);
  });

  it("refuses something that is not a list of futures at once", () => {
    expect(() => fx.results([1, 2] as never)).toThrow(expect.objectContaining({ code: "TSWREN_BAD_INPUT" }) as Error);
  });
});
