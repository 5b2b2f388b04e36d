/**
 * The docker backend's slots: up to `workers` long-lived containers fed from one FIFO queue of
 * calls. Like the localhost pool it guarantees that every accepted call ends: it removes a
 * container at its running call's timeout, reports the running call of a container that ended
 * (out of memory, crashed, killed from outside) as failed, re-queues the calls that had not
 * started, and starts a new container in the slot on demand.
 */
import { EventEmitter } from "node:events";
import { failedStatus } from "../../protocol.js";
import type { CallStatus, InvocationPayload, RemoteErrorInfo } from "../../protocol.js";
import { statusKey } from "../../storage/keys.js";
import { writeStatusUnlessSuperseded } from "../../storage/status-write.js";
import { createStorageBackend } from "../../storage/registry.js";
import type { StorageBackend } from "../../storage/backend.js";
import type { ComputeEvent } from "../backend.js";
import { CallQueue } from "../localhost/call-queue.js";
import { DockerContainer, type ClientIdentity, type ContainerEnd, type ContainerSpec, type QueuedCall } from "./container.js";
import { describeContainerEnd } from "./failure.js";
import type { DockerWorkerMessage } from "./frames.js";
import type { DockerSettings } from "./settings.js";

/** A call whose containers ended this many times before it started is failed. */
const MAX_DISPATCH_FAILURES = 3;
const MAX_BATCH = 32;
/** Allowance for loading the function and input before a call's own timeout counts. */
const START_SLACK_MS = 250;

/** Figures of the pool's containers, for benchmarks and `describe()`. */
export interface PoolFigures {
  /** Start times (docker run to runtime ready) of every container started, ms. */
  startMs: number[];
}

/** The containers of one docker backend. Emits `event` with {@link ComputeEvent}s. */
export class DockerPool extends EventEmitter {
  private readonly queue = new CallQueue();
  private readonly containers = new Set<DockerContainer>();
  private readonly storages = new Map<string, Promise<StorageBackend>>();
  private closing = false;
  /** Figures for benchmarks. */
  readonly figures: PoolFigures = { startMs: [] };

  /**
   * @param settings - the backend's settings (image, slots, engine)
   * @param client - labels of this client process
   * @param runtimeDir - host directory holding the runtime's `docker-worker.mjs`
   */
  constructor(private readonly settings: DockerSettings, private readonly client: ClientIdentity, private readonly runtimeDir: string) {
    super();
  }

  /** Names of the containers alive now. */
  containerNames(): string[] {
    return [...this.containers].map((c) => c.name);
  }

  /** Accept the calls of an invocation. */
  submit(payload: InvocationPayload): void {
    for (const call of payload.calls) this.queue.push({ payload, call, dispatchFailures: 0 });
    this.dispatch();
  }

  /** Drop queued calls of an executor / job; returns how many. */
  cancelPending(executorId: string, jobId?: string): number {
    return this.queue.removeWhere((q) => q.payload.executorId === executorId && (jobId === undefined || q.payload.jobId === jobId));
  }

  /** Remove the containers running (or about to run) calls of an executor / job; returns how many. */
  cancelRunning(executorId: string, jobId?: string): number {
    const matches = (q: QueuedCall): boolean => q.payload.executorId === executorId && (jobId === undefined || q.payload.jobId === jobId);
    let stopped = 0;
    for (const c of this.containers) {
      const head = c.running ?? c.inflight[0];
      if (head === undefined || !matches(head) || c.killReason !== null) continue;
      const keep = c.inflight.filter((q) => !matches(q) || q === c.running);
      c.inflight.splice(0, c.inflight.length, ...keep);
      c.kill({ kind: "cancelled" });
      stopped++;
    }
    return stopped;
  }

  /** Remove every container and forget queued calls. */
  async close(): Promise<void> {
    this.closing = true;
    this.queue.clear();
    await Promise.all([...this.containers].map((c) => c.shutdown()));
    await Promise.all([...this.storages.values()].map(async (s) => (await s).close()));
  }

  private specOf(payload: InvocationPayload): ContainerSpec {
    const root = payload.storage.backend === "localhost" ? payload.storage.config["storage_root"] : undefined;
    return { memoryMb: payload.memoryMb, mounts: typeof root === "string" ? [root] : [] };
  }

  private start(spec: ContainerSpec): DockerContainer {
    const c = new DockerContainer(
      this.settings, spec, this.client, this.runtimeDir,
      (container, m) => { this.onMessage(container, m); },
      (container, end) => { this.onEnd(container, end); },
    );
    this.containers.add(c);
    c.setTimer(this.settings.startTimeoutS * 1000, () => { c.kill({ kind: "stall" }); });
    return c;
  }

  private batchSize(): number {
    return Math.max(1, Math.min(MAX_BATCH, Math.floor(this.queue.length / (this.settings.workers * 4))));
  }

  /** Hand queued calls to containers with room, starting or replacing containers as needed. */
  private dispatch(): void {
    if (this.closing) return;
    while (this.queue.length > 0) {
      const head = this.queue.peek() as QueuedCall;
      const container = this.containerFor(this.specOf(head.payload));
      if (container === null) break;
      const n = this.batchSize();
      const batch: QueuedCall[] = [];
      while (batch.length < n && this.queue.peek()?.payload === head.payload) batch.push(this.queue.shift() as QueuedCall);
      if (container.inflight.length === 0) container.setActive(true);
      container.send(head.payload, batch);
    }
  }

  /** A container of this spec with room for more calls (idle ones first), or null. */
  private containerFor(spec: ContainerSpec): DockerContainer | null {
    const key = JSON.stringify(spec);
    const usable = [...this.containers].filter((c) => !c.exited && !c.retiring && c.killReason === null);
    const idle = usable.find((c) => c.inflight.length === 0 && c.specKey === key);
    if (idle !== undefined) return idle;
    if (this.containers.size < this.settings.workers) return this.start(spec);
    const other = usable.find((c) => c.inflight.length === 0 && c.specKey !== key);
    if (other !== undefined) {
      other.kill({ kind: "shutdown" });
      this.containers.delete(other);
      return this.start(spec);
    }
    return usable.find((c) => c.inflight.length < 2 && c.specKey === key) ?? null;
  }

  private onMessage(c: DockerContainer, message: DockerWorkerMessage): void {
    switch (message.type) {
      case "ready":
        // Killed while the engine was still creating it (`docker rm -f` found nothing yet): remove it now.
        if (c.killReason !== null) {
          c.kill(c.killReason);
          return;
        }
        c.ready = true;
        c.readyMs = Date.now();
        c.clearTimer();
        this.figures.startMs.push(c.readyMs - c.startedMs);
        return;
      case "start":
        this.onStart(c, message.callId, message.workerStartMs);
        return;
      case "status":
        this.onStatus(c, message.status);
        return;
      case "retiring":
        c.retiring = true;
        c.running = null;
        c.clearTimer();
        return;
    }
  }

  /** The runtime picked up the head of the container's list: arm its timeout, report the start. */
  private onStart(c: DockerContainer, callId: string, workerStartMs: number): void {
    const head = c.inflight[0];
    if (head === undefined || head.call.callId !== callId) return;
    c.running = head;
    const limitMs = head.payload.timeoutMs;
    c.setTimer(limitMs + START_SLACK_MS, () => { c.kill({ kind: "timeout", limitMs }); });
    const { executorId, jobId } = head.payload;
    this.emit("event", { type: "start", executorId, jobId, callId, attempt: head.call.attempt, workerStartMs } satisfies ComputeEvent);
  }

  private onStatus(c: DockerContainer, status: CallStatus): void {
    const i = c.inflight.findIndex((q) => q.call.callId === status.callId && q.payload.jobId === status.jobId && q.payload.executorId === status.executorId);
    if (i >= 0) c.inflight.splice(i, 1);
    if (c.running?.call.callId === status.callId) {
      c.running = null;
      c.clearTimer();
    }
    this.emit("event", { type: "status", status } satisfies ComputeEvent);
    if (c.inflight.length === 0) c.setActive(false);
    this.dispatch();
  }

  private onEnd(c: DockerContainer, end: ContainerEnd): void {
    this.containers.delete(c);
    if (this.closing) return;
    const running = c.running;
    const notStarted = c.inflight.filter((q) => q !== running);
    if (running !== null) this.failCall(running, describeContainerEnd(c, end), c.name);
    const requeue: QueuedCall[] = [];
    for (const q of notStarted) {
      q.dispatchFailures += running === null && !c.retiring ? 1 : 0;
      if (q.dispatchFailures >= MAX_DISPATCH_FAILURES) {
        const last = describeContainerEnd(c, end).message;
        this.failCall(q, { kind: "lost", name: "WorkerDied", message: `containers ended ${q.dispatchFailures} times before the call could start; last: ${last}` }, c.name);
      } else {
        requeue.push(q);
      }
    }
    this.queue.unshiftAll(requeue);
    this.dispatch();
  }

  /** Report a call as failed on the platform's behalf: write its status and emit it. */
  private failCall(q: QueuedCall, error: RemoteErrorInfo, containerName: string): void {
    const status = failedStatus(q.payload, q.call, error, containerName);
    const report = (): void => { this.emit("event", { type: "status", status, byPlatform: true } satisfies ComputeEvent); };
    this.writeStatus(q.payload, status).then(report, report);
  }

  private async writeStatus(payload: InvocationPayload, status: CallStatus): Promise<void> {
    const ref = payload.storage;
    const id = JSON.stringify([ref.backend, ref.config]);
    let storage = this.storages.get(id);
    if (storage === undefined) {
      storage = createStorageBackend(ref.backend, ref.config);
      this.storages.set(id, storage);
    }
    await writeStatusUnlessSuperseded(await storage, ref.bucket, statusKey(ref.prefix, payload.executorId, payload.jobId, status.callId), status, payload.maxAttempts);
  }
}
