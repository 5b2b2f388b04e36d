/**
 * The compute contract: every compute backend runs this same suite through the public executor
 * (localhost worker pool, the OpenWhisk emulator with the real action proxy, the local Knative
 * runtime server, and each backend added later). `skips` maps a test name to the reason it does
 * not apply to a backend. The cases are the portable ones of the executor tests: results,
 * errors, timeouts, crashes and OOM, retries, cancel, mapReduce and the partitioner.
 */
import { afterAll, describe, expect, it } from "vitest";
import { objects, RemoteFunctionError, type CloudObject, type FunctionExecutor } from "../../kernel-lib/src/index.js";

/** Executor options the contract varies per case. */
export interface ContractExecutorOptions {
  /** Seconds a call may run. */
  timeout?: number;
  /** Re-run failed calls this many times. */
  retries?: number;
}

/** Makes executors on the backend under test. */
export interface ComputeFixture {
  /** A new executor on the backend (closed by the fixture or by `dispose`). */
  executor(options?: ContractExecutorOptions): FunctionExecutor;
  /** Called once after the suite. */
  dispose(): Promise<void>;
  /** Called after the crash case, for a platform whose only process the crash killed (restart it). */
  afterCrash?(): Promise<void>;
}

/** Names of the contract's cases, for skip lists. */
export const COMPUTE_CASES = {
  results: "map, callAsync and mapReduce give the classic results in order",
  remoteError: "a thrown error comes back as a RemoteFunctionError with its name, message and stack",
  throwExcept: "throwExcept: false gives null for a failed call and keeps its error on the future",
  timeout: "a call past its timeout ends as TSWREN_TIMEOUT and the other calls finish",
  crash: "a call whose process dies ends as an error and the other calls finish",
  oom: "a call that runs out of memory ends as an error and the backend runs the next job",
  retries: "failed calls are re-run up to `retries` times and only the last attempt counts",
  cancel: "cancel() ends every open call as cancelled and the executor runs the next job",
  mapReduce: "mapReduce reduces every map result once",
  partitioner: "objects(...) with chunkSize splits objects into parts that cover each object once",
} as const;

/** A case name of the contract. */
export type ComputeCase = keyof typeof COMPUTE_CASES;

/**
 * Run the compute contract against the backend made by `create`.
 * @param name - the backend, as named in the suite title
 * @param create - makes the fixture (in `beforeAll` time: called lazily by the first case)
 * @param skips - case → reason it does not apply to this backend
 */
export function computeContract(name: string, create: () => ComputeFixture, skips: Partial<Record<ComputeCase, string>> = {}): void {
  describe(`compute contract: ${name}`, () => {
    let fixture: ComputeFixture | undefined;
    const made = (): ComputeFixture => (fixture ??= create());
    const test = (key: ComputeCase, body: () => Promise<void>, timeoutMs?: number): void => {
      const reason = skips[key];
      if (reason !== undefined) it.skip(`${COMPUTE_CASES[key]} (skipped: ${reason})`, body);
      else it(COMPUTE_CASES[key], body, timeoutMs);
    };
    afterAll(async () => {
      await fixture?.dispose();
    });
    defineResultCases(test, () => made().executor());
    defineFailureCases(test, (o) => made().executor(o), () => made().afterCrash?.() ?? Promise.resolve());
    defineJobCases(test, (o) => made().executor(o));
  });
}

type CaseFn = (key: ComputeCase, body: () => Promise<void>, timeoutMs?: number) => void;
type MakeExecutor = (options?: ContractExecutorOptions) => FunctionExecutor;

function defineResultCases(test: CaseFn, executor: () => FunctionExecutor): void {
  test("results", async () => {
    const fx = executor();
    await fx.map((x: number) => x + 7, [1, 2, 3, 4]);
    expect(await fx.getResult()).toEqual([8, 9, 10, 11]);
    await fx.callAsync((x: number) => x + 7, 3);
    expect(await fx.getResult()).toBe(10);
    const items = Array.from({ length: 50 }, (_, i) => i);
    const futures = await fx.map((x: number) => x * 2, items);
    expect(await fx.getResult(futures)).toEqual(items.map((x) => x * 2));
  });

  test("remoteError", async () => {
    const fx = executor();
    const futures = await fx.map((x: number) => {
      if (x === 2) throw new RangeError(`bad item ${x}`);
      return x;
    }, [1, 2, 3]);
    const err = await fx.getResult(futures).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteFunctionError);
    const remote = err as RemoteFunctionError;
    expect([remote.remoteName, remote.call.callId]).toEqual(["RangeError", "00001"]);
    expect(remote.message).toContain("bad item 2");
    expect(remote.remoteStack).toMatch(/RangeError: bad item 2\n\s+at /);
  });

  test("throwExcept", async () => {
    const fx = executor();
    const futures = await fx.map((x: number) => {
      if (x === 2) throw new Error("two");
      return x;
    }, [1, 2, 3]);
    expect(await fx.getResult(futures, { throwExcept: false })).toEqual([1, null, 3]);
    expect(futures[1]?.status).toBe("error");
    expect(futures[1]?.error?.message).toContain("two");
  });
}

function defineFailureCases(test: CaseFn, executor: MakeExecutor, afterCrash: () => Promise<void>): void {
  test("timeout", async () => {
    const fx = executor({ timeout: 2 });
    const futures = await fx.map(async (x: number) => {
      if (x === 1) await new Promise((resolve) => setTimeout(resolve, 60_000));
      return x;
    }, [0, 1, 2]);
    expect(await fx.getResult(futures, { throwExcept: false })).toEqual([0, null, 2]);
    expect(futures[1]?.error).toMatchObject({ code: "TSWREN_TIMEOUT" });
  }, 120_000);

  test("crash", async () => {
    const fx = executor({ timeout: 5 });
    const futures = await fx.map(async (x: number) => {
      // The other calls end first: only the call that kills its process is lost.
      if (x === 1) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        process.kill(process.pid, "SIGKILL");
      }
      return x;
    }, [0, 1, 2]);
    const results = await fx.getResult(futures, { throwExcept: false });
    await afterCrash();
    expect(results).toEqual([0, null, 2]);
    expect(futures[1]?.error).toBeDefined();
  }, 120_000);

  test("oom", async () => {
    const fx = executor({ timeout: 60 });
    const futures = await fx.map((x: number) => {
      if (x !== 1) return x;
      const hog: number[][] = [];
      for (;;) hog.push(new Array<number>(1e6).fill(x));
    }, [0, 1, 2], { runtimeMemory: 256 });
    expect(await fx.getResult(futures, { throwExcept: false })).toEqual([0, null, 2]);
    expect(futures[1]?.error).toBeDefined();
    const after = await fx.map((x: number) => x * 2, [5, 6]);
    expect(await fx.getResult(after)).toEqual([10, 12]);
  }, 120_000);

  test("retries", async () => {
    // Declared fault table: item -> attempts that fail before one succeeds.
    const table = [{ id: "a", failures: 0 }, { id: "b", failures: 1 }, { id: "c", failures: 2 }, { id: "d", failures: 5 }];
    const fx = executor({ retries: 2 });
    const futures = await fx.map((row: { id: string; failures: number }, ctx) => {
      if (ctx.attempt <= row.failures) throw new Error(`${row.id} fails attempt ${ctx.attempt}`);
      return `${row.id}@${ctx.attempt}`;
    }, table);
    expect(await fx.getResult(futures, { throwExcept: false })).toEqual(["a@1", "b@2", "c@3", null]);
    expect(futures[3]?.error?.message).toContain("d fails attempt 3");
    expect(futures.map((f) => f.attempt)).toEqual([1, 2, 3, 3]);
  }, 120_000);
}

function defineJobCases(test: CaseFn, executor: MakeExecutor): void {
  test("cancel", async () => {
    const fx = executor({ timeout: 60 });
    const futures = await fx.map(async (ms: number) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return ms;
    }, [30_000, 30_000]);
    await fx.cancel();
    expect(futures.map((f) => f.status)).toEqual(["cancelled", "cancelled"]);
    const next = await fx.map((x: number) => x + 1, [1, 2]);
    expect(await fx.getResult(next)).toEqual([2, 3]);
  }, 120_000);

  test("mapReduce", async () => {
    const fx = executor();
    const items = Array.from({ length: 20 }, (_, i) => i);
    await fx.mapReduce((x: number) => x * x, items, (squares: number[]) => squares.reduce((a, b) => a + b, 0));
    expect(await fx.getResult()).toBe(items.reduce((a, x) => a + x * x, 0));
  });

  test("partitioner", async () => {
    const fx = executor();
    const s = await fx.storage();
    await s.put("contract-in/a.txt", "one two\nthree\n");
    await s.put("contract-in/b.txt", "four five six\nseven eight\n");
    const futures = await fx.map(async (obj: CloudObject) => {
      let n = 0;
      for await (const line of obj.lines()) n += line.split(" ").filter((w) => w !== "").length;
      return `${obj.key}:${n}`;
    }, objects(`s3://${s.bucket}/contract-in/`), { chunkSize: 8 });
    const parts = await fx.getResult(futures);
    expect(parts.length).toBeGreaterThan(2);
    const total = (key: string): number => parts.filter((p) => p.startsWith(`${key}:`)).reduce((a, p) => a + Number(p.split(":")[1]), 0);
    expect([total("contract-in/a.txt"), total("contract-in/b.txt")]).toEqual([3, 5]);
  });
}
