import { beforeAll, describe, expect, it } from "vitest";
import { objects, type CloudObject, type FunctionExecutor } from "../../kernel-lib/src/index.js";
import { expectClassicExamples, expectRemoteErrorsAndRetries } from "../helpers/classic.js";
import { serverlessFixture, type Platform } from "../helpers/serverless.js";

// End to end on serverless platforms: the real runtime in OpenWhisk containers of the emulator,
// and as Knative HTTP services (local processes); job data and statuses in real MinIO.

const platforms = serverlessFixture();
const executor = platforms.executor.bind(platforms);

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
    const parts = await fx.getResult(futures);
    const total = (key: string): number => parts.filter((p) => p.startsWith(key)).reduce((a, p) => a + Number(p.split(":")[1]), 0);
    expect([total("in/a.txt"), total("in/b.txt")]).toEqual([3, 3]);
  });

  it("retries failed calls and reports remote errors with their stack", async () => {
    await expectRemoteErrorsAndRetries(fx);
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
    if (platform === "knative") await platforms.restartKnative();
  });
});

describe("openwhisk specifics", () => {
  it("the remote invoker sends one activation for the whole job", async () => {
    const fx = executor("openwhisk", { chunksize: 5 });
    await fx.map((x: number) => x, [0]);
    await fx.getResult();
    const before = platforms.ow.stats.invocations;
    const items = Array.from({ length: 200 }, (_, i) => i);
    const futures = await fx.map((x: number) => x + 1, items, { remoteInvoker: true });
    expect(await fx.getResult(futures)).toEqual(items.map((x) => x + 1));
    expect(platforms.ow.stats.invocations - before).toBe(1 + 200 / 5);
  });

  it("a lost activation (accepted, never run) ends as an error after timeout + grace", async () => {
    const fx = executor("openwhisk", { chunksize: 1 }, { timeout: 2 });
    await fx.map((x: number) => x, [0]);
    await fx.getResult();
    platforms.ow.setFaults({ neverFinishRate: 1, seed: 7 });
    try {
      const started = Date.now();
      const futures = await fx.map((x: number) => x, [1]);
      const [result] = await fx.getResult(futures, { throwExcept: false }) as unknown[];
      expect(result).toBeNull();
      expect(futures[0]?.error).toMatchObject({ code: "TSWREN_CALL_LOST" });
      expect(Date.now() - started).toBeLessThan(2_000 + 30_000);
    } finally {
      platforms.ow.setFaults({});
    }
  });
});
