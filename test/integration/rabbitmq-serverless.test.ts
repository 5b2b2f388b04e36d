import { beforeAll, describe, expect, it } from "vitest";
import type { FunctionExecutor } from "../../kernel-lib/src/index.js";
import { expectClassicExamples, expectRemoteErrorsAndRetries } from "../helpers/classic.js";
import { fileBroker, rabbitMonitor } from "../helpers/rabbitmq.js";
import { serverlessFixture, type Platform } from "../helpers/serverless.js";

// RabbitMQ monitoring on the serverless backends: the runtime bundle (amqplib inside) publishes
// from OpenWhisk containers of the emulator and from a Knative HTTP service; job data in MinIO.

const broker = fileBroker();
const platforms = serverlessFixture(() => ({ monitoring: "rabbitmq", config: { rabbitmq: { amqp_url: broker().amqpUrl } } }));
const executor = platforms.executor.bind(platforms);

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
    const logs = platform === "knative" ? platforms.knative.stdout() + platforms.knative.stderr() : "";
    expect(logs).not.toContain(broker().password);
  });

  it("retries failed calls and reports remote errors with their stack", async () => {
    await expectRemoteErrorsAndRetries(fx);
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
