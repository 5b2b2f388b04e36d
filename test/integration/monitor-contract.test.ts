/**
 * The monitor contract on the three monitors: the direct channel (fed through a backend's
 * `events` capability), storage polling over real localhost storage and a real MinIO (workers'
 * `start` and `status.json` keys), and RabbitMQ on a real broker (workers' messages, published by the
 * runtime's publisher) with its storage fallback.
 */
import { EventEmitter } from "node:events";
import type { ComputeBackend, ComputeEvent } from "../../kernel-lib/src/compute/backend.js";
import { DirectMonitor } from "../../kernel-lib/src/monitor/direct.js";
import { publishStart, publishStatus } from "../../kernel-lib/src/monitor/rabbitmq/publisher.js";
import { RabbitMonitor } from "../../kernel-lib/src/monitor/rabbitmq/rabbitmq-monitor.js";
import { StoragePollMonitor } from "../../kernel-lib/src/monitor/storage-poll.js";
import { encodeStatus, type InvocationPayload, type StorageRef } from "../../kernel-lib/src/protocol.js";
import * as keys from "../../kernel-lib/src/storage/keys.js";
import type { StorageBackend } from "../../kernel-lib/src/storage/backend.js";
import { LocalhostStorage } from "../../kernel-lib/src/storage/localhost.js";
import { createStorageBackend } from "../../kernel-lib/src/storage/registry.js";
import { jobNonceOf, monitorContract } from "../contract/monitor.contract.js";
import { tempDir } from "../helpers/executor.js";
import { freshBucket, minioSection, suiteMinio } from "../helpers/minio.js";
import { fileBroker } from "../helpers/rabbitmq.js";

const root = tempDir("monitor-contract");
const BUCKET = "monitor-contract";
const PREFIX = "tswren.jobs";
const MINIO_BUCKET = freshBucket("monitor-contract");

/** A compute backend's event channel, as the direct monitor sees it. */
function eventChannel(): { backend: ComputeBackend; emit(event: ComputeEvent): void; listeners(): number } {
  const bus = new EventEmitter();
  const backend: ComputeBackend = {
    name: "event-channel",
    capabilities: { reportsEveryCall: true, events: { subscribe: (l) => { bus.on("event", l); return () => { bus.off("event", l); }; } } },
    invoke: () => Promise.reject(new Error("the monitor contract invokes nothing")),
    describe: () => "an event channel for the monitor contract",
    close: () => Promise.resolve(),
  };
  return { backend, emit: (event) => bus.emit("event", event), listeners: () => bus.listenerCount("event") };
}

monitorContract("direct", () => ({
  create(executorId, sink) {
    const channel = eventChannel();
    return Promise.resolve({
      monitor: new DirectMonitor(channel.backend, executorId, sink),
      reportStart: (jobId, callId, attempt) => Promise.resolve(channel.emit({ type: "start", executorId, jobId, callId, attempt, workerStartMs: Date.now() })).then(() => undefined),
      reportStatus: (status) => Promise.resolve(channel.emit({ type: "status", status })).then(() => undefined),
      listeners: () => channel.listeners(),
    });
  },
  dispose: () => Promise.resolve(),
}));

/** The worker side over storage: `start` markers and `status.json` keys, as the runtime writes them. */
function storageWorker(storage: StorageBackend, executorId: string, bucket = BUCKET): { reportStart(jobId: string, callId: string): Promise<void>; reportStatus(status: Parameters<typeof encodeStatus>[0]): Promise<void> } {
  return {
    reportStart: (jobId, callId) => storage.put(bucket, keys.startKey(PREFIX, executorId, jobId, callId), ""),
    reportStatus: (status) => storage.put(bucket, keys.statusKey(PREFIX, status.executorId, status.jobId, status.callId), encodeStatus(status)),
  };
}

async function localStorage(): Promise<{ storage: LocalhostStorage; ref: StorageRef }> {
  const storage = new LocalhostStorage({ storage_root: root });
  await storage.ensureBucket(BUCKET);
  return { storage, ref: { backend: "localhost", config: { storage_root: root }, bucket: BUCKET, prefix: PREFIX } };
}

monitorContract("storage-poll", () => ({
  async create(executorId, sink) {
    const { storage, ref } = await localStorage();
    const worker = storageWorker(storage, executorId);
    return {
      monitor: new StoragePollMonitor(storage, ref, executorId, sink, { minIntervalMs: 10, maxIntervalMs: 100 }),
      reportStart: (jobId, callId) => worker.reportStart(jobId, callId),
      reportStatus: (status) => worker.reportStatus(status),
    };
  },
  dispose: () => Promise.resolve(),
}));

monitorContract("storage-poll on MinIO", () => ({
  async create(executorId, sink) {
    const config = minioSection(await suiteMinio());
    const storage = await createStorageBackend("minio", config);
    await storage.ensureBucket(MINIO_BUCKET);
    const worker = storageWorker(storage, executorId, MINIO_BUCKET);
    const ref: StorageRef = { backend: "minio", config, bucket: MINIO_BUCKET, prefix: PREFIX };
    return {
      monitor: new StoragePollMonitor(storage, ref, executorId, sink, { minIntervalMs: 10, maxIntervalMs: 100 }),
      reportStart: (jobId, callId) => worker.reportStart(jobId, callId),
      reportStatus: (status) => worker.reportStatus(status),
    };
  },
  dispose: () => Promise.resolve(),
}));

const broker = fileBroker();

monitorContract("rabbitmq", () => ({
  async create(executorId, sink) {
    const { storage, ref } = await localStorage();
    const monitor = await RabbitMonitor.connect(broker().amqpUrl, executorId, sink, storage, ref);
    // Only the fields the publisher reads: where to publish and whose call it is.
    const payload = { executorId, amqp: monitor.target } as Pick<InvocationPayload, "executorId" | "amqp">;
    return {
      monitor,
      async reportStart(jobId, callId, attempt) {
        await publishStart({ ...payload, jobId, jobNonce: jobNonceOf(jobId) } as InvocationPayload, { callId, attempt }, Date.now());
      },
      async reportStatus(status) {
        await publishStatus(payload, status);
      },
    };
  },
  dispose: () => Promise.resolve(),
}));
