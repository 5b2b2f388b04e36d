/** The classic PyWren examples, checked the same way on every backend and storage. */
import { expect } from "vitest";
import type { FunctionExecutor, ResponseFuture } from "../../kernel-lib/src/index.js";

/** map(x => x + 7, [1, 2, 3, 4]) gives [8, 9, 10, 11]; callAsync with 3 gives 10; mapReduce with a sum gives 38. */
export async function expectClassicExamples(fx: FunctionExecutor): Promise<void> {
  await fx.map((x: number) => x + 7, [1, 2, 3, 4]);
  expect(await fx.getResult()).toEqual([8, 9, 10, 11]);
  await fx.callAsync((x: number) => x + 7, 3);
  expect(await fx.getResult()).toBe(10);
  await fx.mapReduce((x: number) => x + 7, [1, 2, 3, 4], (rs: number[]) => rs.reduce((a, b) => a + b, 0));
  expect(await fx.getResult()).toBe(38);
}

/** Calls that throw, one that fails once then succeeds on retry: errors carry the remote message. */
export async function expectRemoteErrorsAndRetries(fx: FunctionExecutor): Promise<void> {
  const futures = await fx.map((x: number, ctx) => {
    if (x === 1 && ctx.attempt === 1) throw new Error("flaky once");
    if (x === 2) throw new RangeError("always two");
    return `${x}@${ctx.attempt}`;
  }, [0, 1, 2], { retries: 1 });
  expect(await fx.getResult(futures, { throwExcept: false })).toEqual(["0@1", "1@2", null]);
  expect(futures[2]?.error?.message).toContain("always two");
  expect(futures[2]?.attempt).toBe(2);
}

/** A throw, a call looping past its 1 s timeout, and a flaky call retried once (localhost pool). */
export async function expectErrorsTimeoutsRetries(fx: FunctionExecutor): Promise<void> {
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
}

/** Storage holds a status (and a start marker) for each of a job's `n` calls. */
export async function expectStoredRecords(fx: FunctionExecutor, jobId: string | undefined, n: number): Promise<void> {
  const storage = await fx.storage();
  const keys = await storage.listKeys(`tswren.jobs/${fx.executorId}-${jobId}/`);
  expect(keys.filter((k) => k.endsWith("/status.json"))).toHaveLength(n);
  expect(keys.filter((k) => k.endsWith("/start"))).toHaveLength(n);
}

/** Each future's timestamps run from job creation to result, in order. */
export function expectStatsInOrder(futures: readonly ResponseFuture[]): void {
  for (const f of futures) {
    const s = f.stats;
    const order = [s.hostJobCreateMs, s.hostSubmitMs, s.workerStartMs, s.workerFuncStartMs, s.workerFuncEndMs, s.workerEndMs, s.hostStatusDoneMs, s.hostResultDoneMs] as number[];
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  }
}
