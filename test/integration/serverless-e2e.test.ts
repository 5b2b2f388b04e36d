import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functionExecutor, objects, type CloudObject, type FunctionExecutor } from "../../kernel-lib/src/index.js";
import { startOpenWhiskEmulator, type OpenWhiskEmulator } from "../emulators/openwhisk/index.js";
import type { MinioEndpoint } from "../global-setup.js";
import { freshBucket, minioSection, suiteMinio } from "../helpers/minio.js";
import { startRuntimeProcess, type RuntimeProcess } from "../helpers/runtime-process.js";
import { expectClassicExamples } from "../helpers/classic.js";

// End to end on serverless platforms: the real runtime in OpenWhisk containers of the emulator,
// and as Knative HTTP services (local processes); job data and statuses in real MinIO.

let minio: MinioEndpoint;
let ow: OpenWhiskEmulator;
let knative: RuntimeProcess;
const executors: FunctionExecutor[] = [];

beforeAll(async () => {
  minio = await suiteMinio();
  ow = await startOpenWhiskEmulator({ invocationsPerMinute: 1_000_000, concurrentLimit: 8 });
  knative = await startRuntimeProcess("http-server.mjs", { TSWREN_CONCURRENCY: "2" });
});
afterAll(async () => {
  for (const fx of executors) await fx.close();
  knative.kill();
  await ow.stop();
});

type Platform = "openwhisk" | "knative";

function executor(platform: Platform, extra: Record<string, unknown> = {}, options: { timeout?: number; retries?: number } = {}): FunctionExecutor {
  const compute =
    platform === "openwhisk"
      ? { openwhisk: { endpoint: ow.apihost, namespace: ow.namespace, api_key: ow.apiKey, invoke_pool_threads: 8, runtime_memory: 256, ...extra } }
      : { knative: { url: knative.url, max_workers: 4, ...extra } };
  const fx = functionExecutor({
    backend: platform,
    storage: "minio",
    storageBucket: freshBucket(platform),
    dataCleaner: false,
    ...options,
    config: { tswren: { retry_sleeps: [0.05, 0.2] }, minio: minioSection(minio), ...compute },
  });
  executors.push(fx);
  return fx;
}

describe.each<Platform>(["openwhisk", "knative"])("%s end to end", (platform) => {
  let fx: FunctionExecutor;
  beforeAll(() => {
    fx = executor(platform, platform === "openwhisk" ? { chunksize: 4 } : {});
  });

  it("runs the classic examples: [8, 9, 10, 11], 10 and 38", async () => {
    await expectClassicExamples(fx);
  });

  it("runs a 1000-call map in order, with logs from the platform", async () => {
    const items = Array.from({ length: 1000 }, (_, i) => i);
    const futures = await fx.map((x: number) => {
      console.log(`item ${x}`);
      return x * 2;
    }, items);
    expect(await fx.getResult(futures)).toEqual(items.map((x) => x * 2));
    expect(futures[999]?.logs()).toBe("item 999\n");
    expect(futures[0]?.workerId).toMatch(platform === "openwhisk" ? /^openwhisk-/ : /^knative-/);
  });

  it("runs a data job over objects(...) in MinIO", async () => {
    const s = await fx.storage();
    await s.put("in/a.txt", "one two\nthree\n");
    await s.put("in/b.txt", "four five six");
    const futures = await fx.map(async (obj: CloudObject) => {
      let n = 0;
      for await (const line of obj.lines()) n += line.split(" ").length;
      return `${obj.key}:${n}`;
    }, objects(`s3://${s.bucket}/in/`), { chunkSize: 5 });
    const parts = (await fx.getResult(futures)) as string[];
    const total = (key: string): number => parts.filter((p) => p.startsWith(key)).reduce((a, p) => a + Number(p.split(":")[1]), 0);
    expect([total("in/a.txt"), total("in/b.txt")]).toEqual([3, 3]);
  });

  it("retries failed calls and reports remote errors with their stack", async () => {
    const futures = await fx.map((x: number, ctx) => {
      if (x === 1 && ctx.attempt === 1) throw new Error("flaky once");
      if (x === 2) throw new RangeError("always two");
      return `${x}@${ctx.attempt}`;
    }, [0, 1, 2], { retries: 1 });
    expect(await fx.getResult(futures, { throwExcept: false })).toEqual(["0@1", "1@2", null]);
    expect(futures[2]?.error?.message).toContain("always two");
    expect(futures[2]?.attempt).toBe(2);
  });

  it("ends a call whose runtime process dies as an error within timeout + grace", async () => {
    const crashing = executor(platform, platform === "openwhisk" ? { chunksize: 1 } : {}, { timeout: 3 });
    const started = Date.now();
    const futures = await crashing.map(async (x: number) => {
      // The other calls end first: only the call that kills its runtime process is lost.
      if (x === 1) {
        await new Promise((resolve) => setTimeout(resolve, 500));
        process.kill(process.pid, "SIGKILL");
      }
      return x;
    }, [0, 1, 2]);
    const results = (await crashing.getResult(futures, { throwExcept: false })) as unknown[];
    expect(results[0]).toBe(0);
    expect(results[2]).toBe(2);
    expect(results[1]).toBeNull();
    expect(futures[1]?.error).toBeDefined();
    expect(Date.now() - started).toBeLessThan(3_000 + 10_000 + 7_000);
    if (platform === "knative") knative = await startRuntimeProcess("http-server.mjs", { TSWREN_CONCURRENCY: "2" });
  });
});

describe("openwhisk specifics", () => {
  it("the remote invoker sends one activation for the whole job", async () => {
    const fx = executor("openwhisk", { chunksize: 5 });
    await fx.map((x: number) => x, [0]);
    await fx.getResult();
    const before = ow.stats.invocations;
    const items = Array.from({ length: 200 }, (_, i) => i);
    const futures = await fx.map((x: number) => x + 1, items, { remoteInvoker: true });
    expect(await fx.getResult(futures)).toEqual(items.map((x) => x + 1));
    expect(ow.stats.invocations - before).toBe(1 + 200 / 5);
  });

  it("a lost activation (accepted, never run) ends as an error after timeout + grace", async () => {
    const fx = executor("openwhisk", { chunksize: 1 }, { timeout: 2 });
    await fx.map((x: number) => x, [0]);
    await fx.getResult();
    ow.setFaults({ neverFinishRate: 1, seed: 7 });
    try {
      const started = Date.now();
      const futures = await fx.map((x: number) => x, [1]);
      const [result] = await fx.getResult(futures, { throwExcept: false }) as unknown[];
      expect(result).toBeNull();
      expect(futures[0]?.error).toMatchObject({ code: "TSWREN_CALL_LOST" });
      expect(Date.now() - started).toBeLessThan(2_000 + 30_000);
    } finally {
      ow.setFaults({});
    }
  });
});
