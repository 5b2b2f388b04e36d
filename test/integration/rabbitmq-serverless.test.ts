import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functionExecutor, type FunctionExecutor } from "../../kernel-lib/src/index.js";
import { startOpenWhiskEmulator, type OpenWhiskEmulator } from "../emulators/openwhisk/index.js";
import type { MinioEndpoint } from "../global-setup.js";
import { expectClassicExamples } from "../helpers/classic.js";
import { freshBucket, minioSection, suiteMinio } from "../helpers/minio.js";
import { fileBroker, rabbitMonitor } from "../helpers/rabbitmq.js";
import { startRuntimeProcess, type RuntimeProcess } from "../helpers/runtime-process.js";

// RabbitMQ monitoring on the serverless backends: the runtime bundle (amqplib inside) publishes
// from OpenWhisk containers of the emulator and from a Knative HTTP service; job data in MinIO.

const broker = fileBroker();
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
    storageBucket: freshBucket(`rmq-${platform}`),
    dataCleaner: false,
    monitoring: "rabbitmq",
    ...options,
    config: { tswren: { retry_sleeps: [0.05, 0.2] }, minio: minioSection(minio), rabbitmq: { amqp_url: broker().amqpUrl }, ...compute },
  });
  executors.push(fx);
  return fx;
}

describe.each<Platform>(["openwhisk", "knative"])("RabbitMQ monitoring on %s", (platform) => {
  let fx: FunctionExecutor;
  beforeAll(() => {
    fx = executor(platform, platform === "openwhisk" ? { chunksize: 4 } : {});
  });

  it("runs the classic examples: [8, 9, 10, 11], 10 and 38", async () => {
    await expectClassicExamples(fx);
  });

  it("resolves a 200-call map from the workers' messages, without polling storage", async () => {
    const monitor = await rabbitMonitor(fx);
    const before = monitor.counts.statuses;
    const items = Array.from({ length: 200 }, (_, i) => i);
    const futures = await fx.map((x: number) => {
      console.log(`item ${x}`);
      return x * 2;
    }, items);
    expect(await fx.getResult(futures)).toEqual(items.map((x) => x * 2));
    expect(monitor.counts.statuses - before).toBe(200);
    expect(monitor.fallback.requests).toBe(0);
    expect(futures[199]?.logs()).toBe("item 199\n");
    // The broker URL travels in payloads only: never in the platform's logs.
    const logs = platform === "knative" ? knative.stdout() + knative.stderr() : "";
    expect(logs).not.toContain(broker().password);
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
});

describe("RabbitMQ monitoring, OpenWhisk specifics", () => {
  it("the remote invoker's activations publish too", async () => {
    const fx = executor("openwhisk", { chunksize: 5 });
    const monitor = await rabbitMonitor(fx);
    const items = Array.from({ length: 100 }, (_, i) => i);
    const futures = await fx.map((x: number) => x + 1, items, { remoteInvoker: true });
    expect(await fx.getResult(futures)).toEqual(items.map((x) => x + 1));
    expect(monitor.counts.statuses).toBe(100);
    expect(monitor.fallback.requests).toBe(0);
  });

  it("a call killed by the platform at its timeout ends as an error within timeout + grace", async () => {
    const fx = executor("openwhisk", { chunksize: 1 }, { timeout: 2 });
    const started = Date.now();
    const futures = await fx.map((x: number) => {
      if (x === 1) for (;;) { /* past the timeout */ }
      return x;
    }, [0, 1]);
    expect(await fx.getResult(futures, { throwExcept: false })).toEqual([0, null]);
    expect(futures[1]?.error).toBeDefined();
    expect(Date.now() - started).toBeLessThan(2_000 + 10_000 + 8_000);
  });
});
