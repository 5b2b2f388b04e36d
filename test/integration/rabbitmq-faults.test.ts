import { connect } from "amqplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeMonitorMessage, type CallStatus } from "../../kernel-lib/src/protocol.js";
import { readCallStatus } from "../../kernel-lib/src/storage/status-records.js";
import { createStorageBackend } from "../../kernel-lib/src/storage/registry.js";
import type { FunctionExecutor, ResponseFuture } from "../../kernel-lib/src/index.js";
import { caught } from "../helpers/caught.js";
import { tempDir, testExecutor } from "../helpers/executor.js";
import { fileBroker, rabbitMonitor, until } from "../helpers/rabbitmq.js";

// Fault cases of RabbitMQ monitoring against a real broker: a message the broker drops, messages
// delivered more than once, and the broker stopped in the middle of a job. Storage stays the
// record, so every job still completes with the right results.

/** End messages over this size are refused by the broker (its `max_message_size`). */
const MAX_MESSAGE_BYTES = 64 * 1024;
const broker = fileBroker({ maxMessageBytes: MAX_MESSAGE_BYTES });
const root = tempDir("rabbitmq-faults");
let fx: FunctionExecutor;
beforeAll(() => {
  fx = testExecutor(root, { monitoring: "rabbitmq", workers: 2, config: { rabbitmq: { amqp_url: broker().amqpUrl } } });
});
afterAll(() => fx.close());

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** A call's stored status (on localhost, from the status batch written within 100 ms of its end). */
async function storedStatus(f: ResponseFuture): Promise<CallStatus> {
  const t = fx.config.tswren;
  const storage = await createStorageBackend("localhost", { storage_root: root });
  try {
    let status: CallStatus | null = null;
    for (let i = 0; status === null && i < 200; i++) {
      status = await readCallStatus(storage, { bucket: t.storage_bucket, prefix: t.storage_prefix, executorId: fx.executorId, jobId: f.jobId }, f.callId);
      if (status === null) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    if (status === null) throw new Error(`no stored status for call ${f.jobId}/${f.callId}`);
    return status;
  } finally {
    await storage.close();
  }
}

describe("RabbitMQ monitoring faults", () => {
  it("completes a call whose end message the broker dropped, from storage after its deadline", async () => {
    const monitor = await rabbitMonitor(fx);
    const before = monitor.counts.statuses;
    const futures = await fx.map((x: number) => {
      // Call 2's status carries 100 KB of logs: its end message is over the broker's limit.
      if (x === 2) console.log("x".repeat(100_000));
      return x * 10;
    }, [0, 1, 2, 3], { timeout: 1 });
    expect(await fx.getResult(futures)).toEqual([0, 10, 20, 30]);
    expect(futures[2]?.logs().length).toBeGreaterThan(MAX_MESSAGE_BYTES);
    expect(monitor.counts.statuses - before).toBe(3); // the other calls' messages still arrived
    expect(monitor.fallback.requests).toBeGreaterThan(0);
    expect(monitor.degraded).toBe(false);
  });

  it("counts duplicate start and end messages once", async () => {
    const monitor = await rabbitMonitor(fx);
    const conn = await connect(broker().amqpUrl);
    const channel = await conn.createConfirmChannel();
    const queue = monitor.target.queue;
    try {
      const futures = await fx.map(async (x: number) => {
        await new Promise((resolve) => setTimeout(resolve, 100));
        return x + 1;
      }, range(16));
      const resent = new Set<ResponseFuture>();
      const before = { ...monitor.counts };
      // As calls end, deliver each one's start and end again, twice, while the job runs.
      while (resent.size < futures.length) {
        const [done] = await fx.wait(futures.filter((f) => !resent.has(f)), { returnWhen: "ANY_COMPLETED" });
        for (const f of done) {
          resent.add(f);
          const status = await storedStatus(f);
          const start = { type: "start" as const, executorId: fx.executorId, jobId: f.jobId, callId: f.callId, attempt: 1, workerStartMs: status.stats.workerStartMs ?? 0 };
          for (let copy = 0; copy < 2; copy++) {
            channel.sendToQueue(queue, encodeMonitorMessage(start));
            channel.sendToQueue(queue, encodeMonitorMessage({ type: "status", status }));
          }
        }
      }
      await channel.waitForConfirms();
      const stats = futures.map((f) => ({ ...f.stats }));
      await until(() => monitor.counts.statuses - before.statuses >= 32);
      // Every future ended once, and a late start or end changed nothing.
      expect(futures.map((f) => f.status)).toEqual(futures.map(() => "success"));
      expect(futures.map((f) => ({ ...f.stats }))).toEqual(stats);
      expect(await fx.getResult(futures)).toEqual(range(16).map((x) => x + 1));
      await fx.map((x: number) => -x, [1, 2]);
      expect(await fx.getResult()).toEqual([-1, -2]); // nothing read twice, nothing left over
    } finally {
      await conn.close();
    }
  });

  it("completes a job through storage when the broker stops in the middle of it", async () => {
    const monitor = await rabbitMonitor(fx);
    const before = monitor.counts.statuses;
    const futures = await fx.map(async (x: number) => {
      await new Promise((resolve) => setTimeout(resolve, 200));
      return x * x;
    }, range(30));
    await until(() => monitor.counts.statuses - before >= 4);
    await broker().stopApp();
    expect(await fx.getResult(futures)).toEqual(range(30).map((x) => x * x));
    expect(monitor.degraded).toBe(true);
    expect(monitor.counts.statuses - before).toBeLessThan(30);
    expect(monitor.fallback.requests).toBeGreaterThan(0);
    // A new executor cannot start without its broker: a clear error, not a hang.
    const other = testExecutor(root, { monitoring: "rabbitmq", config: { rabbitmq: { amqp_url: broker().amqpUrl } } });
    expect(await caught(other.map((x: number) => x, [1]))).toMatchObject({ code: "TSWREN_MONITOR_UNREACHABLE" });
    await other.close();
  });
});
