/**
 * Functions that return futures on the serverless backends (issue 12): a call creates an
 * executor inside the worker from the invoking executor's config (OpenWhisk emulator with the
 * real action proxy, the local Knative server; job data in MinIO), runs map / callAsync there
 * and returns the futures; getResult resolves them to values. The inner executor signs its
 * invocations with the runtime's own key and takes OpenWhisk's key from the activation; its job
 * data lives under the invoking call's ids, so the outer executor's clean() removes it.
 */
import { describe, expect, it } from "vitest";
import { functionExecutor, RemoteFunctionError } from "../../kernel-lib/src/index.js";
import { ErrorCodes } from "../../kernel-lib/src/errors.js";
import { caught } from "../helpers/caught.js";
import { serverlessFixture, type Platform } from "../helpers/serverless.js";
import { TEST_SIGNING_KEY } from "../helpers/signing.js";

const platforms = serverlessFixture();

describe.each<Platform>(["openwhisk", "knative"])("%s: functions that return futures", (platform) => {
  it("a call that runs map through an executor created inside it gives the map's values; clean() removes the inner jobs' data too", async () => {
    const fx = platforms.executor(platform, platform === "openwhisk" ? { chunksize: 1 } : {}, { retries: 0 });
    const [future] = await fx.callAsync(async (n: number) => {
      const inner = functionExecutor();
      return { id: inner.executorId, values: await inner.map((x: number) => x * 10, [n, n + 1, n + 2]) };
    }, 3);
    const value = (await fx.getResult(future)) as unknown as { id: string; values: number[] };
    expect(value.values).toEqual([30, 40, 50]);
    // Named under the invoking call: <outer executor>-<job>-<call>-<tag>-<n>.
    expect(value.id).toMatch(new RegExp(`^${fx.executorId}-A000-00000-[0-9a-f]{4}-0$`));
    const storage = await fx.storage();
    const keys = await storage.listKeys();
    expect(keys.some((k) => k.includes(`${value.id}-M000/`))).toBe(true);
    // The inner executor's credentials (the activation's key, the runtime's signing key) never reach storage.
    const secrets = [TEST_SIGNING_KEY, platforms.ow.apiKey, platforms.ow.apiKey.split(":")[1] ?? ""];
    for (const key of keys) {
      const text = (await storage.get(key)).toString("latin1");
      for (const secret of secrets) expect(text.includes(secret), `${key} holds a secret`).toBe(false);
    }
    await fx.clean();
    expect(await storage.listKeys()).toEqual([]);
  }, 90_000);

  it("futures in objects resolve recursively; a failed returned call fails the returning call, naming it", async () => {
    const fx = platforms.executor(platform, platform === "openwhisk" ? { chunksize: 1 } : {}, { retries: 0 });
    const leaf = (x: number) => x + 100;
    const [nested] = await fx.callAsync(async (x: number) => ({ x, deep: await functionExecutor().callAsync(async (y: number) => functionExecutor().map(leaf, [y]), x) }), 5);
    expect(await fx.getResult(nested)).toEqual({ x: 5, deep: [[105]] });
    await fx.callAsync(async (n: number) => functionExecutor().map((x: number) => {
      if (x === 2) throw new Error(`inner boom ${x}`);
      return x;
    }, [1, n]), 2);
    const err = await caught(fx.getResult());
    expect(err).toBeInstanceOf(RemoteFunctionError);
    expect(err.code).toBe(ErrorCodes.REMOTE_FUNCTION);
    expect(err.message).toContain("inner boom 2");
    expect(err.message).toMatch(/a future this call returned/);
  }, 90_000);
});

describe("openwhisk: a returned call whose activation died", () => {
  it("fails the returning call within seconds with the real cause, not at execution_timeout", async () => {
    const fx = platforms.executor("openwhisk", { chunksize: 1 }, { retries: 0, timeout: 120 });
    const t0 = Date.now();
    const [future] = await fx.callAsync(async (n: number) => functionExecutor({ retries: 0 }).map(async (x: number) => {
      if (x === 2) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        process.kill(process.pid, "SIGKILL");
      }
      return x;
    }, [1, n]), 2);
    const err = await caught(fx.getResult(future));
    expect(err.code).toBe(ErrorCodes.WORKER_CRASHED);
    expect(err.message).toMatch(/a future this call returned/);
    expect(Date.now() - t0).toBeLessThan(20_000);
  }, 150_000);
});
