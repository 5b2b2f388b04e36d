import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countFutures } from "../../kernel-lib/src/progress/progress.js";
import { redactConfig } from "../../kernel-lib/src/config/index.js";
import type { FunctionExecutor } from "../../kernel-lib/src/index.js";
import { caught } from "../helpers/caught.js";
import { expectClassicExamples, expectErrorsTimeoutsRetries, expectStatsInOrder, expectStoredRecords } from "../helpers/classic.js";
import { tempDir, testExecutor } from "../helpers/executor.js";
import { freePort } from "../helpers/ports.js";
import { fileBroker, rabbitMonitor } from "../helpers/rabbitmq.js";

// `monitoring: "rabbitmq"` with the localhost worker pool and a real RabbitMQ broker: workers
// publish each call's start and end over AMQP and the client resolves futures from those
// messages (not from the pool's direct channel); the same cases as storage monitoring.

const broker = fileBroker();
const root = tempDir("rabbitmq-monitoring");
let fx: FunctionExecutor;
beforeAll(() => {
  fx = testExecutor(root, { monitoring: "rabbitmq", config: { rabbitmq: { amqp_url: broker().amqpUrl } } });
});
afterAll(() => fx.close());

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe("RabbitMQ monitoring on the localhost backend", () => {
  it("gives the classic results: [8, 9, 10, 11], 10 and 38", async () => {
    await expectClassicExamples(fx);
  });

  it("resolves 300 calls in order from AMQP messages, without polling storage", async () => {
    const monitor = await rabbitMonitor(fx);
    const before = { ...monitor.counts };
    const items = Array.from({ length: 300 }, (_, i) => i);
    const futures = await fx.map((x: number) => x * 2, items);
    expect(await fx.getResult(futures)).toEqual(items.map((x) => x * 2));
    expect(monitor.counts.statuses - before.statuses).toBe(300);
    expect(monitor.counts.starts - before.starts).toBeGreaterThanOrEqual(300);
    expect(monitor.fallback.requests).toBe(0);
    expect(monitor.degraded).toBe(false);
    // Storage is still the record: every status (and start marker) is written.
    await expectStoredRecords(fx, futures[0]?.jobId, 300);
  });

  it("reports remote errors, timeouts and retries", async () => {
    await expectErrorsTimeoutsRetries(fx);
  });

  it("keeps stats in order and shows calls running, then done, to progress displays", async () => {
    const seen = { running: 0, done: 0 };
    const futures = await fx.map(async (x: number) => {
      await new Promise((resolve) => setTimeout(resolve, 150));
      return x;
    }, [1, 2, 3, 4, 5, 6]);
    await fx.wait(futures, {
      onProgress: () => {
        const c = countFutures(futures);
        seen.running = Math.max(seen.running, c.running);
        seen.done = Math.max(seen.done, c.done);
      },
    });
    expect(seen.running).toBeGreaterThan(0);
    expect(seen.done).toBe(6);
    expect(await fx.getResult(futures)).toEqual([1, 2, 3, 4, 5, 6]);
    expectStatsInOrder(futures);
  });

  it("never writes the broker URL into statuses, storage, logs or the printed config", async () => {
    const { password } = broker();
    const futures = await fx.map((x: number) => {
      console.log(JSON.stringify(process.env));
      if (x === 1) throw new Error("boom");
      return x;
    }, [0, 1]);
    await fx.getResult(futures, { throwExcept: false });
    for (const f of futures) {
      expect(f.logs()).not.toContain(password);
      expect(f.error?.message ?? "").not.toContain(password);
    }
    for (const file of filesUnder(root)) expect(readFileSync(file, "latin1")).not.toContain(password);
    expect(JSON.stringify(redactConfig(fx.config))).not.toContain(password);
  });
});

describe("RabbitMQ monitoring: clear errors before anything is invoked", () => {
  async function failure(amqpUrl: string): Promise<{ err: Error; written: string[] }> {
    const dir = mkdtempSync(path.join(root, "bad-"));
    const bad = testExecutor(dir, { monitoring: "rabbitmq", config: { rabbitmq: { amqp_url: amqpUrl } } });
    try {
      const err = await caught(bad.map((x: number) => x, [1, 2]));
      return { err, written: filesUnder(dir) };
    } finally {
      await bad.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it("refuses a URL that is not amqp(s), naming the key and not the value", async () => {
    const err = await caught((async () => testExecutor(path.join(root, "never-created"), { monitoring: "rabbitmq", config: { rabbitmq: { amqp_url: "http://user:s3cr3t-pass@127.0.0.1:5672/" } } }).map((x: number) => x, [1]))());
    expect(err).toMatchObject({ code: "TSWREN_CONFIG_BAD_VALUE" });
    expect(err.message).toContain("amqp_url");
    expect(err.message).not.toContain("s3cr3t-pass");
  });

  it("fails fast with TSWREN_MONITOR_UNREACHABLE when no broker listens", async () => {
    const port = await freePort();
    const t0 = Date.now();
    const { err, written } = await failure(`amqp://user:s3cr3t-pass@127.0.0.1:${port}/v`);
    expect(err).toMatchObject({ code: "TSWREN_MONITOR_UNREACHABLE" });
    expect(err.message).toContain(`127.0.0.1:${port}`);
    expect(err.message).not.toContain("s3cr3t-pass");
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(written).toEqual([]);
  });

  it("fails with TSWREN_MONITOR_CREDENTIALS for a wrong password or vhost", async () => {
    const b = broker();
    const wrongPassword = await failure(`amqp://${b.user}:not-the-password@127.0.0.1:${b.port}/${b.vhost}`);
    expect(wrongPassword.err).toMatchObject({ code: "TSWREN_MONITOR_CREDENTIALS" });
    expect(wrongPassword.err.message).not.toContain("not-the-password");
    expect(wrongPassword.written).toEqual([]);
    const wrongVhost = await failure(`amqp://${b.user}:${b.password}@127.0.0.1:${b.port}/no-such-vhost`);
    expect(wrongVhost.err).toMatchObject({ code: "TSWREN_MONITOR_CREDENTIALS" });
    expect(wrongVhost.err.message).not.toContain(b.password);
  });
});
