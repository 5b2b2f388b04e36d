/**
 * The backends of one executor: storage (bucket checked), compute, and the monitors of the
 * configured monitoring mode, created together on the executor's first use.
 */
import type { ComputeBackend } from "./compute/backend.js";
import { createSelectedCompute } from "./compute/registry.js";
import type { TswrenConfig } from "./config/index.js";
import { storageSection } from "./config/sections.js";
import { hideSecretsOnInspect } from "./config/redact.js";
import { DirectMonitor } from "./monitor/direct.js";
import type { Monitor } from "./monitor/monitor.js";
import { RabbitMonitor } from "./monitor/rabbitmq/rabbitmq-monitor.js";
import { StoragePollMonitor, type PollSink } from "./monitor/storage-poll.js";
import type { StorageRef } from "./protocol.js";
import type { StorageBackend } from "./storage/backend.js";
import { createSelectedStorage } from "./storage/registry.js";
import { showOnly } from "./security/opaque.js";

/** Backends of a running executor, created on first use. */
export interface Backends {
  compute: ComputeBackend;
  storage: StorageBackend;
  storageRef: StorageRef;
  /** Every monitor in use: the backend's own channel, storage polling and/or RabbitMQ. */
  monitors: Monitor[];
  /**
   * The storage monitor, when the backend does not report every call itself (in RabbitMQ mode,
   * the RabbitMQ monitor's storage fallback). Workers write `start` keys when there is one.
   */
  poller: StoragePollMonitor | null;
  /** The RabbitMQ monitor, with `monitoring: "rabbitmq"`. */
  rabbit: RabbitMonitor | null;
}

/**
 * Create and connect an executor's backends and start its monitors.
 * @param sink - receives the monitors' events (the executor's core)
 * @throws the storage, broker or compute backend's error when one cannot start
 */
export async function createBackends(config: TswrenConfig, executorId: string, sink: PollSink): Promise<Backends> {
  const t = config.tswren;
  const storage = await createSelectedStorage(config);
  const storageRef: StorageRef = { backend: t.storage, config: hideSecretsOnInspect(t.storage, { ...storageSection(config, t.storage) }), bucket: t.storage_bucket, prefix: t.storage_prefix };
  // The broker is checked (and the executor's queue declared) before anything is written or invoked.
  const rabbit = t.monitoring === "rabbitmq" ? await RabbitMonitor.connect(config.rabbitmq?.amqp_url ?? "", executorId, sink, storage, storageRef) : null;
  try {
    await storage.ensureBucket(t.storage_bucket);
    const compute = await createSelectedCompute(config, { retrySleepsS: t.retry_sleeps });
    const { monitors, poller } = monitorsFor(config, executorId, sink, { compute, storage, storageRef, rabbit });
    for (const m of monitors) m.start();
    const backends: Backends = { compute, storage, storageRef, monitors, poller, rabbit };
    showOnly(backends, "Backends", () => ({ compute: compute.name, storage: storage.name, bucket: storageRef.bucket, prefix: storageRef.prefix, monitoring: t.monitoring }));
    return backends;
  } catch (err) {
    await rabbit?.stop();
    throw err;
  }
}

/**
 * The monitors of a monitoring mode: `auto` uses the backend's direct channel (with storage
 * polling unless the backend reports every call), `storage` polls storage, `rabbitmq` consumes
 * the workers' messages; `storage` and `rabbitmq` still take the calls the backend itself ended
 * (`byPlatform`) from its channel.
 */
function monitorsFor(
  config: TswrenConfig,
  executorId: string,
  sink: PollSink,
  b: Pick<Backends, "compute" | "storage" | "storageRef" | "rabbit">,
): Pick<Backends, "monitors" | "poller"> {
  const channel = b.compute.capabilities.events !== undefined;
  if (b.rabbit !== null) {
    return { monitors: channel ? [b.rabbit, new DirectMonitor(b.compute, executorId, sink, true)] : [b.rabbit], poller: b.rabbit.fallback };
  }
  const direct = channel && config.tswren.monitoring === "auto";
  // `storage` still takes the calls the backend itself ended (a dead activation, a broken
  // connection, a killed worker) from its channel: no worker can write their status.
  const monitors: Monitor[] = channel ? [new DirectMonitor(b.compute, executorId, sink, !direct)] : [];
  const poller = direct && b.compute.capabilities.reportsEveryCall ? null : new StoragePollMonitor(b.storage, b.storageRef, executorId, sink);
  if (poller !== null) monitors.push(poller);
  return { monitors, poller };
}
