import { afterAll, describe, expect, it } from "vitest";
import type { FunctionExecutor } from "../../kernel-lib/src/index.js";
import { tempDir, testExecutor } from "../helpers/executor.js";

const root = tempDir("basics");
const fx: FunctionExecutor = testExecutor(root);
afterAll(() => fx.close());

describe("the classic PyWren examples", () => {
  it("map(x => x + 7, [1, 2, 3, 4]) gives [8, 9, 10, 11]", async () => {
    const futures = await fx.map((x: number) => x + 7, [1, 2, 3, 4]);
    expect(await fx.getResult(futures)).toEqual([8, 9, 10, 11]);
  });

  it("callAsync of x => x + 7 with 3 gives 10 from getResult()", async () => {
    await fx.callAsync((x: number) => x + 7, 3);
    expect(await fx.getResult()).toBe(10);
  });

  it("mapReduce with a summing reducer gives 38", async () => {
    await fx.mapReduce((x: number) => x + 7, [1, 2, 3, 4], (rs: number[]) => rs.reduce((a, b) => a + b, 0));
    expect(await fx.getResult()).toBe(38);
  });

  it("mapReduce with reducerWaitLocal waits on the client first and gives the same sum", async () => {
    const futures = await fx.mapReduce((x: number) => x * 2, [1, 2, 3], (rs: number[]) => rs.reduce((a, b) => a + b, 0), { reducerWaitLocal: true });
    const mapFutures = futures.slice(0, 3);
    const reducer = futures[3];
    expect(mapFutures.every((f) => (f.stats.hostStatusDoneMs ?? Infinity) <= reducer.stats.hostSubmitMs)).toBe(true);
    expect(await fx.getResult(futures)).toBe(12);
  });
});

describe("ordering, ids and arguments", () => {
  it("keeps positional order over 1000 items", async () => {
    const items = Array.from({ length: 1000 }, (_, i) => i);
    const futures = await fx.map((x: number) => x * 3, items);
    expect(await fx.getResult(futures)).toEqual(items.map((x) => x * 3));
  });

  it("passes the call index as ctx.id", async () => {
    const futures = await fx.map((_x: string, ctx) => ctx.id, ["a", "b", "c", "d", "e"]);
    expect(await fx.getResult(futures)).toEqual([0, 1, 2, 3, 4]);
  });

  it("merges extraArgs into object items", async () => {
    const futures = await fx.map((o: { x: number; k: number }) => o.x * o.k, [{ x: 1 }, { x: 2 }], { extraArgs: { k: 10 } });
    expect(await fx.getResult(futures)).toEqual([10, 20]);
  });

  it("rejects extraArgs with non-object items, naming the item", async () => {
    await expect(fx.map((x: number) => x, [{ a: 1 }, 5] as never, { extraArgs: { k: 1 } })).rejects.toThrow(/input\[1\] is number.*extraArgs/);
  });

  it("two maps then getResult() concatenates both in submission order", async () => {
    const fx2 = testExecutor(root);
    try {
      void fx2.map((x: number) => x + 1, [1, 2]);
      void fx2.map((x: number) => x * 10, [3, 4]);
      expect(await fx2.getResult()).toEqual([2, 3, 30, 40]);
      expect(await fx2.getResult()).toEqual([]);
    } finally {
      await fx2.close();
    }
  });

  it("chains a map over another map's futures", async () => {
    const first = await fx.map((x: number) => x + 1, [1, 2, 3]);
    const second = await fx.map((x: number) => x * 100, first);
    expect(await fx.getResult(second)).toEqual([200, 300, 400]);
  });
});

describe("wait", () => {
  it("ANY_COMPLETED returns once one call ended", async () => {
    const futures = await fx.map(async (ms: number) => { await new Promise((r) => setTimeout(r, ms)); return ms; }, [10, 1500]);
    const [done, notDone] = await fx.wait(futures, { returnWhen: "ANY_COMPLETED" });
    expect(done.map((f) => f.callId)).toEqual(["00000"]);
    expect(notDone.map((f) => f.callId)).toEqual(["00001"]);
    await fx.wait(futures);
  });

  it("ALWAYS returns at once with what is done", async () => {
    const futures = await fx.map(async (ms: number) => { await new Promise((r) => setTimeout(r, ms)); return ms; }, [1500, 1500]);
    const [done, notDone] = await fx.wait(futures, { returnWhen: "ALWAYS" });
    expect(done).toHaveLength(0);
    expect(notDone).toHaveLength(2);
    await fx.wait(futures);
  });

  it("a percentage returns once that share of calls ended", async () => {
    const futures = await fx.map(async (ms: number) => { await new Promise((r) => setTimeout(r, ms)); return ms; }, [5, 5, 5, 4000]);
    const [done, notDone] = await fx.wait(futures, { returnWhen: 50 });
    expect(done.length).toBeGreaterThanOrEqual(2);
    expect(notDone.map((f) => f.callId)).toContain("00003");
    await fx.wait(futures);
  });

  it("a wait timeout returns the calls not done yet", async () => {
    const futures = await fx.map(async (ms: number) => { await new Promise((r) => setTimeout(r, ms)); return ms; }, [2500]);
    const [done, notDone] = await fx.wait(futures, { timeout: 0.2 });
    expect(done).toHaveLength(0);
    expect(notDone).toHaveLength(1);
    await expect(fx.getResult(futures, { timeout: 0.1 })).rejects.toMatchObject({ code: "TSWREN_WAIT_TIMEOUT" });
    await fx.wait(futures);
  });

  it("rejects a bad returnWhen before waiting", async () => {
    await expect(fx.wait([], { returnWhen: 150 })).rejects.toMatchObject({ code: "TSWREN_BAD_OPTION" });
  });
});
