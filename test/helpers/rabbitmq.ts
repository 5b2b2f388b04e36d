/** Test helpers for RabbitMQ monitoring: a broker per test file and the executor's monitor. */
import { afterAll, beforeAll } from "vitest";
import { engineOf } from "../../kernel-lib/src/internal.js";
import type { FunctionExecutor } from "../../kernel-lib/src/index.js";
import type { RabbitMonitor } from "../../kernel-lib/src/monitor/rabbitmq/rabbitmq-monitor.js";
import { startRabbitmq, type RabbitmqOptions, type RabbitmqServer } from "../services/rabbitmq.js";

/**
 * Start a real broker before the file's tests and stop it after them.
 * @returns a getter for the running broker (valid inside tests)
 */
export function fileBroker(options: RabbitmqOptions = {}): () => RabbitmqServer {
  let broker: RabbitmqServer | undefined;
  beforeAll(async () => {
    broker = await startRabbitmq(options);
  }, 240_000);
  afterAll(async () => {
    await broker?.stop();
  });
  return () => {
    if (broker === undefined) throw new Error("the RabbitMQ broker did not start (see beforeAll)");
    return broker;
  };
}

/** The executor's RabbitMQ monitor (the executor must be in `monitoring: "rabbitmq"`). */
export async function rabbitMonitor(fx: FunctionExecutor): Promise<RabbitMonitor> {
  const b = await engineOf(fx).backends();
  if (b.rabbit === null) throw new Error(`executor ${fx.executorId} has no RabbitMQ monitor`);
  return b.rabbit;
}

/** Resolves once `test()` holds, checking every 20 ms (for counters fed by broker messages). */
export async function until(test: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
