import { readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RemoteFunctionError, functionExecutor, type FunctionExecutor } from "../../kernel-lib/src/index.js";
import { ErrorCodes } from "../../kernel-lib/src/errors.js";
import { caught } from "../helpers/caught.js";
import { tempDir, testExecutor } from "../helpers/executor.js";

// Functions that return futures (Lithops' "futures returned by a function"): a call creates an
// executor inside the worker, from the invoking executor's config, runs map / callAsync there
// and returns the futures; getResult resolves them to values, recursively. Real local workers.

const root = tempDir("nested");
const FAKE_SECRET = "fake-secret-never-shipped-7f3a";
const fx: FunctionExecutor = testExecutor(root, { config: { openwhisk: { api_key: `user:${FAKE_SECRET}` } } });
afterAll(() => fx.close());

/** Executor ids that wrote job data under the storage root (an inner executor's id extends its caller's). */
function executorIds(dir = root): string[] {
  const names = readdirSync(dir, { recursive: true, encoding: "utf8" });
  return [...new Set(names.flatMap((n) => /^(?:.*\/)?((?:[0-9a-f]{16}-\d+)(?:-[AMR]\d{3}-\d{5}-[0-9a-f]{4}-\d+)*)(?:-[AMR]\d{3})?\//.exec(`${n}/`)?.[1] ?? []))].sort();
}

describe("functions that return futures", () => {
  it("a call that runs map through an executor created inside it gives the map's values", async () => {
    const before = executorIds().length;
    const outer = async (n: number) => {
      const inner = functionExecutor();
      return inner.map((x: number) => x * 10, [n, n + 1, n + 2]);
    };
    await fx.callAsync(outer, 3);
    expect(await fx.getResult()).toEqual([30, 40, 50]);
    // The inner executor wrote its jobs to the same storage (the invoking executor's config),
    // named under the invoking call: <executor>-<job>-<call>-<4 hex>-<n>.
    const ids = executorIds();
    expect(ids.length).toBe(before + 2);
    expect(ids).toContainEqual(expect.stringMatching(new RegExp(`^${fx.executorId}-A000-00000-[0-9a-f]{4}-0$`)));
  });

  it("futures returned inside arrays and objects, from every call of a map, resolve in place", async () => {
    const futures = await fx.map(async (n: number) => {
      const inner = functionExecutor();
      const [single] = await inner.callAsync((x: number) => `v${x}`, n);
      return { n, single, squares: await inner.map((x: number) => x * x, [n, n + 1]) };
    }, [1, 2]);
    expect(await fx.getResult(futures)).toEqual([
      { n: 1, single: "v1", squares: [1, 4] },
      { n: 2, single: "v2", squares: [4, 9] },
    ]);
  });

  it("resolution is recursive: a returned call that itself returns futures gives their values", async () => {
    const leaf = (x: number) => x + 100;
    const middle = async (x: number) => functionExecutor().map(leaf, [x, x * 2]);
    const top = async (x: number) => functionExecutor().callAsync(middle, x);
    const futures = await fx.callAsync(top, 5);
    expect(await fx.getResult(futures)).toEqual([[[105, 110]]]);
  });

  it("a returned call that failed fails the returning call with its message, naming that call", async () => {
    const futures = await fx.callAsync(async (n: number) => {
      return functionExecutor().map((x: number) => {
        if (x === 2) throw new Error(`inner boom ${x}`);
        return x;
      }, [1, n]);
    }, 2);
    const err = await caught(fx.getResult());
    expect(err).toBeInstanceOf(RemoteFunctionError);
    expect(err.code).toBe(ErrorCodes.REMOTE_FUNCTION);
    expect(err.message).toContain("inner boom 2");
    expect(err.message).toMatch(/in call [0-9a-f]{16}-\d+-A\d{3}-00000-[0-9a-f]{4}-0\/M000\/00001, a future this call returned/);
    expect(futures[0]?.error).toBe(err);
    // The failure was reported once: the next job's results come back alone.
    await fx.map((x: number) => x - 1, [1]);
    expect(await fx.getResult()).toEqual([0]);
  });

  it("close() with the data cleaner removes the data of the jobs executors inside its calls ran, at every depth", async () => {
    const own = tempDir("nested-clean");
    const cleaning = testExecutor(own, { dataCleaner: true });
    const leaf = (x: number) => x * 2;
    const middle = async (x: number) => functionExecutor().map(leaf, [x, x + 1]);
    await cleaning.map(async (x: number) => functionExecutor().callAsync(middle, x), [1, 2]);
    expect(await cleaning.getResult()).toEqual([[[2, 4]], [[4, 6]]]);
    // Three levels of executors wrote job data: the outer one, one per outer call, one per middle call.
    const ids = executorIds(own);
    expect(ids).toHaveLength(5);
    for (const id of ids) expect(id.startsWith(cleaning.executorId)).toBe(true);
    await cleaning.close();
    const files = readdirSync(own, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && !e.parentPath.includes(".tmp"));
    expect(files.map((e) => path.join(e.parentPath, e.name))).toEqual([]);
  });

  it("the configuration executors inside a function get has no secret of the invoking executor", async () => {
    await fx.callAsync(() => {
      const cfg = functionExecutor().config as unknown as Record<string, Record<string, unknown>>;
      return { openwhisk: cfg["openwhisk"] ?? {}, text: JSON.stringify(cfg) };
    }, 0);
    const value = (await fx.getResult()) as { openwhisk: Record<string, unknown>; text: string };
    expect(value.openwhisk["api_key"]).toBeUndefined();
    expect(value.text).not.toContain(FAKE_SECRET);
    expect(value.text).toContain(root);
  });
});

describe("functions that return futures: a returned call whose worker died", () => {
  it("fails the returning call within seconds with the real cause (worker crashed), not at execution_timeout", async () => {
    const t0 = Date.now();
    const [future] = await fx.callAsync(async (n: number) => functionExecutor({ retries: 0 }).map((x: number) => {
      if (x === 2) process.kill(process.pid, "SIGKILL");
      return x;
    }, [1, n]), 2);
    const err = await caught(fx.getResult(future));
    expect(err.code).toBe(ErrorCodes.WORKER_CRASHED);
    expect(err.message).toMatch(/a future this call returned/);
    expect(Date.now() - t0).toBeLessThan(15_000);
  }, 60_000);
});
