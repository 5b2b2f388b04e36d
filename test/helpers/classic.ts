/** The classic PyWren examples, checked the same way on every backend and storage. */
import { expect } from "vitest";
import type { FunctionExecutor, ResponseFuture } from "../../kernel-lib/src/index.js";
import { isStatusBatchKey } from "../../kernel-lib/src/storage/keys.js";
import { decodeStatusBatch } from "../../kernel-lib/src/storage/status-records.js";

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

/** Distinct calls with a stored status in a job: `status.json` per call, or status batches (localhost). */
async function storedStatusCalls(fx: FunctionExecutor, jobId: string | undefined): Promise<{ calls: Set<string>; statusFiles: number; keys: string[] }> {
  const storage = await fx.storage();
  const keys = await storage.listKeys(`tswren.jobs/${fx.executorId}-${jobId}/`);
  const calls = new Set<string>();
  for (const k of keys) {
    if (k.endsWith("/status.json")) calls.add(k.split("/").at(-2) ?? "");
    if (isStatusBatchKey(k)) for (const s of await decodeStatusBatch(await storage.get(k))) calls.add(s.callId);
  }
  return { calls, statusFiles: keys.filter((k) => k.endsWith("/status.json")).length, keys };
}

/**
 * Storage holds a status (and a start marker) for each of a job's `n` calls: on localhost in
 * status batches (written within 100 ms of the calls' ends), elsewhere one `status.json` each.
 */
export async function expectStoredRecords(fx: FunctionExecutor, jobId: string | undefined, n: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  let found = await storedStatusCalls(fx, jobId);
  while (found.calls.size < n && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50)); // batches are written on a 100 ms timer
    found = await storedStatusCalls(fx, jobId);
  }
  expect(found.calls.size).toBe(n);
  if (fx.config.tswren.backend === "localhost") expect(found.statusFiles).toBe(0);
  expect(found.keys.filter((k) => k.endsWith("/start"))).toHaveLength(n);
}

/** Each future's timestamps run from job creation to result, in order. */
export function expectStatsInOrder(futures: readonly ResponseFuture[]): void {
  for (const f of futures) {
    const s = f.stats;
    const order = [s.hostJobCreateMs, s.hostSubmitMs, s.workerStartMs, s.workerFuncStartMs, s.workerFuncEndMs, s.workerEndMs, s.hostStatusDoneMs, s.hostResultDoneMs] as number[];
    expect([...order].sort((a, b) => a - b)).toEqual(order);
  }
}
