import { afterAll, describe, expect, it } from "vitest";
import { engineOf } from "../../kernel-lib/src/internal.js";
import { functionExecutor, type FunctionExecutor } from "../../kernel-lib/src/index.js";
import { tempDir, testExecutor } from "../helpers/executor.js";

/** A name declared for the type checker only: it exists nowhere at run time. */
declare const nowhereK: number;

const root = tempDir("data");
const fx: FunctionExecutor = testExecutor(root);
afterAll(() => fx.close());

describe("data fidelity", () => {
  it("round-trips typed arrays, Buffer, Map, Set, Date, BigInt and nested objects both ways", async () => {
    const input = {
      f64: new Float64Array([1.5, -2.25, Number.NaN]),
      u8: new Uint8Array([0, 255, 7]),
      buf: Buffer.from("tswren"),
      map: new Map<unknown, unknown>([["a", 1], [2, new Set([3n])]]),
      set: new Set(["x", "y"]),
      date: new Date("2024-05-06T07:08:09.010Z"),
      big: 2n ** 70n,
      nested: { deep: [{ more: [1, "two", null, undefined] }] },
      big_blob: new Float64Array(4096).fill(0.5),
    };
    const futures = await fx.map((o: typeof input) => ({ ...o, kinds: Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Object.prototype.toString.call(v)])), isBuffer: Buffer.isBuffer(o.buf) }), [input]);
    const [out] = (await fx.getResult(futures)) as Array<typeof input & { kinds: Record<string, string>; isBuffer: boolean }>;
    expect(out).toBeDefined();
    expect(out?.isBuffer).toBe(true);
    expect(out?.kinds).toMatchObject({ f64: "[object Float64Array]", map: "[object Map]", set: "[object Set]", date: "[object Date]", big: "[object BigInt]" });
    const rest: Partial<typeof out> = { ...out };
    delete rest.kinds;
    delete rest.isBuffer;
    expect(rest).toEqual(input);
    expect(Buffer.isBuffer(rest.buf)).toBe(true);
    expect(rest.big_blob).toBeInstanceOf(Float64Array);
  });

  it("returns large results through the output object", async () => {
    const futures = await fx.map((n: number) => new Uint8Array(n).fill(9), [200_000]);
    const [bytes] = (await fx.getResult(futures)) as Uint8Array[];
    expect(bytes?.length).toBe(200_000);
    expect(bytes?.[199_999]).toBe(9);
  });

  it("names the path of an input value that cannot be serialized, before invoking anything", async () => {
    await expect(fx.map((x: unknown) => x, [1, { opts: { onDone: () => 1 } }])).rejects.toThrow(/input\[1\]\.opts\.onDone cannot be serialized \(a function named onDone\)/);
  });

  it("reports a result that cannot be serialized as a clear error", async () => {
    const futures = await fx.map(() => ({ cb: Symbol("s") }), [1]);
    const err = await fx.getResult(futures).catch((e: unknown) => e);
    expect(String(err)).toMatch(/result.*cannot be serialized/);
  });
});

describe("stats and logs", () => {
  it("orders stats: create <= submit <= worker start <= function start <= function end <= worker end <= status done <= result done", async () => {
    const futures = await fx.map(async (x: number) => { await new Promise((r) => setTimeout(r, 5)); return x; }, [1, 2, 3]);
    await fx.getResult(futures);
    for (const f of futures) {
      const s = f.stats;
      const order = [s.hostJobCreateMs, s.hostSubmitMs, s.workerStartMs, s.workerFuncStartMs, s.workerFuncEndMs, s.workerEndMs, s.hostStatusDoneMs, s.hostResultDoneMs];
      expect(order.every((v) => typeof v === "number" && v > 0)).toBe(true);
      expect([...order].sort((a, b) => (a as number) - (b as number))).toEqual(order);
      expect((s.workerFuncEndMs as number) - (s.workerFuncStartMs as number)).toBeGreaterThanOrEqual(4);
    }
  });

  it("keeps each call's stdout and stderr in future.logs()", async () => {
    const futures = await fx.map((x: number) => {
      console.log(`out ${x}`);
      console.error(`err ${x}`);
      return x;
    }, [1, 2]);
    await fx.getResult(futures);
    expect(futures[0]?.logs()).toBe("out 1\nerr 1\n");
    expect(futures[1]?.logs()).toBe("out 2\nerr 2\n");
  });
});

describe("bad input fails fast and writes nothing", () => {
  it("rejects an unknown option with a suggestion", async () => {
    await expect(fx.map((x: number) => x, [1], { retires: 2 } as never)).rejects.toThrow(/`retires` is not known; did you mean `retries`/);
  });

  it("rejects a negative timeout", async () => {
    await expect(fx.map((x: number) => x, [1], { timeout: -1 })).rejects.toMatchObject({ code: "TSWREN_BAD_OPTION" });
  });

  it("rejects a string as iterdata", async () => {
    await expect(fx.map((x: string) => x, "abc" as never)).rejects.toMatchObject({ code: "TSWREN_BAD_INPUT" });
  });

  it("ships a closure local by value (as cloudpickle does) and names a name found nowhere, before any invocation", async () => {
    const fresh = testExecutor(tempDir("unresolved"));
    try {
      const k = 3;
      await fresh.map((x: number) => x + k, [1]);
      expect(await fresh.getResult()).toEqual([4]);
      const before = engineOf(fresh).registeredFutures().length;
      await expect(fresh.map((x: number) => x + nowhereK, [1])).rejects.toThrow(/"nowhereK"/);
      expect(engineOf(fresh).registeredFutures()).toHaveLength(before);
    } finally {
      await fresh.close();
    }
  });

  it("rejects an unknown executor option and a bad config value with suggestions", () => {
    expect(() => functionExecutor({ backnd: "localhost" } as never)).toThrow(/did you mean `backend`/);
    expect(() => functionExecutor({ config: { tswren: { storage_buckt: "x" } } })).toThrow(/storage_bucket/);
    expect(() => functionExecutor({ backend: "lambda" })).toThrow(/backend/);
    expect(() => functionExecutor({ retries: -1 })).toThrow(/retries/);
  });
});

describe("cloud objects: data passed between calls by reference", () => {
  it("a call stores an object and a later call reads it through the reference; clean() removes it", async () => {
    const own = testExecutor(tempDir("cloudobjects"));
    try {
      const producers = await own.map(async (n: number, ctx) => ctx.storage.putCloudObject(`payload ${n}`), [1, 2]);
      const consumers = await own.map(async (ref: { backend: string; bucket: string; key: string }, ctx) => (await ctx.storage.getCloudObject(ref)).toString(), producers);
      expect(await own.getResult(consumers)).toEqual(["payload 1", "payload 2"]);
      const refs = (await own.getResult(producers)) as Array<{ key: string }>;
      expect(refs[0]?.key).toMatch(new RegExp(`^tswren\\.jobs/${own.executorId}/cloudobjects/`));
      const storage = await own.storage();
      await own.clean();
      await expect(storage.getCloudObject(refs[0] as never)).rejects.toMatchObject({ code: "TSWREN_NO_SUCH_KEY" });
    } finally {
      await own.close();
    }
  });
});
