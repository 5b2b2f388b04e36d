import { readdirSync } from "node:fs";
import path from "node:path";
import { inspect } from "node:util";
import { afterAll, describe, expect, expectTypeOf, it } from "vitest";
import { RemoteFunctionError, objects, type FunctionExecutor, type ResponseFuture } from "../../kernel-lib/src/index.js";
import { engineOf } from "../../kernel-lib/src/internal.js";
import { ErrorCodes } from "../../kernel-lib/src/errors.js";
import { caught } from "../helpers/caught.js";
import { tempDir, testExecutor } from "../helpers/executor.js";

// "It failed, I fixed it, I run it again": every refused submission and every thrown error is
// reported once; the next job's results come back alone. Real local worker processes.

const root = tempDir("semantics");
const fx: FunctionExecutor = testExecutor(root, { runtimeMemory: 256 });
afterAll(() => fx.close());

/** Every file under the storage root (what the executor wrote). */
function written(dir: string = root): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
}

declare const Mth: { max(a: number, b: number): number };

/** Submissions refused before anything is invoked, by kind. */
const refusals: Array<[string, () => Promise<unknown>, string]> = [
  ["an unresolved name (Mth.max)", () => fx.map((x: number) => Mth.max(x, 1), [1, 2]), ErrorCodes.UNRESOLVED_NAME],
  ["an unserializable input", () => fx.map((x: { f: () => number }) => x, [{ f: () => 1 }]), ErrorCodes.NOT_SERIALIZABLE],
  ["a missing source", () => fx.map((o: unknown) => o, objects(path.join(root, "no-such-folder/"))), ""],
  ["a non-function", () => fx.map(42 as never, [1]), ErrorCodes.BAD_INPUT],
  ["a non-function reducer", () => fx.mapReduce((x: number) => x, [1], 7 as never), ErrorCodes.CAPTURE_FAILED],
];

describe("no sticky errors", () => {
  it.each(refusals)("a map refused for %s leaves no futures, no job id and no data; a fixed map + getResult() gives the new results", async (_what, refuse, code) => {
    const warm = await fx.map((x: number) => x, [0]);
    await fx.getResult(warm);
    const before = written();
    const registered = engineOf(fx).registeredFutures().length;
    const err = await caught(refuse());
    if (code !== "") expect(err.code).toBe(code);
    expect(engineOf(fx).registeredFutures()).toHaveLength(registered);
    expect(written()).toEqual(before);
    expect(await fx.getResult()).toEqual([]);
    expect(await fx.wait()).toEqual([[], []]);
    const futures = await fx.map((x: number) => Math.max(x, 1) * 10, [0, 2, 3]);
    expect(Number(futures[0]?.jobId.slice(1))).toBe(Number(warm[0]?.jobId.slice(1)) + 1);
    expect(await fx.getResult()).toEqual([10, 20, 30]);
    await expect(fx.plot(undefined, { dir: path.join(root, "..", `plots-${path.basename(root)}`), name: "after" })).resolves.toBeDefined();
  });

  it("a thrown error consumes its futures: getResult(), wait() and plot() then see only the fixed job", async () => {
    await fx.map((x: number) => {
      if (x === 2) throw new Error("boom two");
      return x;
    }, [1, 2, 3]);
    const err = await fx.getResult().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteFunctionError);
    expect((err as Error).message).toContain("boom two");
    expect(await fx.getResult()).toEqual([]);
    const fixed = await fx.map((x: number) => x * 2, [1, 2, 3]);
    const [done, notDone] = await fx.wait();
    expect(notDone).toEqual([]);
    expect(done).toEqual(fixed);
    expect(await fx.getResult()).toEqual([2, 4, 6]);
    const plotted = await fx.plot(undefined, { dir: path.join(root, "..", `plots-${path.basename(root)}`), name: "fixed" });
    expect(plotted).toBeDefined();
  });

  it("a thrown error of getResult(futures) is not thrown again by getResult()", async () => {
    const bad = await fx.callAsync((x: number) => {
      throw new Error(`bad ${x}`);
    }, 1);
    await expect(fx.getResult(bad)).rejects.toThrow("bad 1");
    await fx.callAsync((x: number) => x + 1, 1);
    expect(await fx.getResult()).toBe(2);
  });

  it("a read-only storage folder refuses the map at submit and leaves the executor clean", async () => {
    const ro = testExecutor("/sys/tswren-read-only-storage");
    try {
      const err = await caught(ro.map((x: number) => x, [1]));
      expect(err.code).toBe(ErrorCodes.STORAGE);
      expect(err.message).toContain("localhost storage cannot write to its folder /sys/tswren-read-only-storage (EPERM");
      expect(err.message).toContain("set localhost_storage.storage_root to a writable folder");
      expect(engineOf(ro).registeredFutures()).toHaveLength(0);
      expect(await ro.getResult()).toEqual([]);
      expect(await ro.wait()).toEqual([[], []]);
    } finally {
      await ro.close();
    }
  });
});

describe("result shapes and types", () => {
  it("mapReduce with one reducer gives its value from getResult() and getResult(futures)", async () => {
    const futures = await fx.mapReduce((x: number) => x + 7, [1, 2, 3, 4], (rs: number[]) => rs.reduce((a, b) => a + b, 0));
    expectTypeOf(fx.getResult(futures)).resolves.toEqualTypeOf<number>();
    expect(await fx.getResult(futures)).toBe(38);
    await fx.mapReduce((x: number) => x * 2, [1, 2], (rs: number[]) => rs.length);
    expect(await fx.getResult()).toBe(2);
  });

  it("getResult is typed from its futures: R, R[], and (R | null)[] with throwExcept: false", async () => {
    const futures = await fx.map((x: number) => String(x), [1, 2]);
    expectTypeOf(futures).toEqualTypeOf<ResponseFuture<string>[]>();
    const values: string[] = await fx.getResult(futures);
    expect(values).toEqual(["1", "2"]);
    const lenient = await fx.getResult(futures, { throwExcept: false });
    expectTypeOf(lenient).toEqualTypeOf<(string | null)[]>();
    const [one] = await fx.callAsync((x: number) => x > 0, 1);
    if (one === undefined) throw new Error("callAsync gave no future");
    expectTypeOf(fx.getResult(one)).resolves.toEqualTypeOf<boolean>();
    expect(await fx.getResult(one)).toBe(true);
  });
});

describe("the executor's engine is private", () => {
  it("is not a property, not enumerable, and console.dir shows no secret", () => {
    const secret = "SECRET-api12-inspect";
    const remote = testExecutor(root, {
      storage: "minio",
      config: { minio: { endpoint: "http://127.0.0.1:9", access_key_id: "key", secret_access_key: secret } },
    });
    expect("core" in remote).toBe(false);
    expect(Object.keys(remote)).not.toContain("core");
    expect(inspect(remote, { depth: null, showHidden: true })).not.toContain(secret);
    expect(engineOf(remote).executorId).toBe(remote.executorId);
  });
});

describe("call stats", () => {
  it("include the worker's own execution time next to the function's", async () => {
    const [f] = await fx.callAsync(async (ms: number) => {
      await new Promise((r) => setTimeout(r, ms));
      return ms;
    }, 20);
    if (f === undefined) throw new Error("callAsync gave no future");
    await fx.getResult(f);
    const s = f.stats;
    expect(s.workerExecMs).toBe((s.workerEndMs ?? NaN) - (s.workerStartMs ?? NaN));
    expect(s.workerFuncExecMs).toBe((s.workerFuncEndMs ?? NaN) - (s.workerFuncStartMs ?? NaN));
    expect(s.workerFuncExecMs).toBeGreaterThanOrEqual(0);
    expect(s.workerExecMs).toBeGreaterThanOrEqual(s.workerFuncExecMs ?? Infinity);
  });
});

describe("functions and their arguments", () => {
  it("ships bound, partially applied and factory-made functions", async () => {
    function add(a: number, b: number): number {
      return a + b;
    }
    const makeScaler = (k: number) => (x: number) => x * k;
    expect(await fx.getResult(await fx.map(add.bind(null, 5), [1, 2]))).toEqual([6, 7]);
    expect(await fx.getResult(await fx.map(makeScaler(3), [1, 2]))).toEqual([3, 6]);
  });

  it("passes extraArgs given as an array after scalar items, and merges an object into object items", async () => {
    const scaled = await fx.map((x: number, k: number, offset: number) => x * k + offset, [1, 2], { extraArgs: [10, 1] });
    expect(await fx.getResult(scaled)).toEqual([11, 21]);
    const merged = await fx.map(({ x, y }: { x: number; y: number }) => x + y, [{ x: 1 }, { x: 2 }], { extraArgs: { y: 100 } });
    expect(await fx.getResult(merged)).toEqual([101, 102]);
  });

  it("refuses object items missing a destructured parameter before any invocation, naming it, leaving nothing", async () => {
    const before = written();
    const registered = engineOf(fx).registeredFutures().length;
    const add = ({ x, y }: { x: number; y: number }): number => x + y;
    const err = await caught(fx.map(add, [{ x: 1, y: 2 }, { x: 1, z: 2 } as never]));
    expect(err.code).toBe(ErrorCodes.ARGUMENT_MISMATCH);
    expect(err.message).toContain("input[1] has no `y`");
    expect(err.message).toContain("`z`");
    expect(engineOf(fx).registeredFutures()).toHaveLength(registered);
    expect(written()).toEqual(before);
    expect(await fx.getResult()).toEqual([]);
  });
});

describe("options do what the docs say", () => {
  it("a call timeout above what the backend can hold is refused, naming the maximum", async () => {
    const err = await caught(fx.map((x: number) => x, [1], { timeout: 3e6 }));
    expect(err.code).toBe(ErrorCodes.BAD_OPTION);
    expect(err.message).toContain("2147483 s");
  });

  it("execution_timeout bounds getResult and wait with a coded error naming it; the calls keep running", async () => {
    const short = testExecutor(root, { config: { tswren: { execution_timeout: 0.3 } } });
    try {
      const futures = await short.map(() => new Promise((r) => setTimeout(r, 1500, "late")), [1]);
      const err = await caught(short.getResult());
      expect(err.code).toBe(ErrorCodes.EXECUTION_TIMEOUT);
      expect(err.message).toContain("execution_timeout (0.3 s)");
      expect((await caught(short.wait(futures))).code).toBe(ErrorCodes.EXECUTION_TIMEOUT);
      const [done] = await short.wait(futures, { timeout: 0.01 });
      expect(done).toEqual([]);
      await futures[0]?.settled();
      expect(await short.getResult()).toEqual(["late"]);
    } finally {
      await short.close();
    }
  });
});
