/**
 * The localhost worker pool: a fixed number of persistent worker processes fed from one FIFO
 * queue of calls. It guarantees that every accepted call ends: it kills a call's worker at the
 * call's timeout or when the worker exceeds its memory, reports a dead worker's running call as
 * failed, re-queues the calls that had not started, and replaces dead workers.
 */
import { EventEmitter } from "node:events";
import { failedStatus } from "../../protocol.js";
import type { CallStatus, InvocationPayload, RemoteErrorInfo, WorkerMessage } from "../../protocol.js";
import { statusKey } from "../../storage/keys.js";
import { writeStatusUnlessSuperseded } from "../../storage/status-write.js";
import { createStorageBackend } from "../../storage/registry.js";
import type { StorageBackend } from "../../storage/backend.js";
import type { ComputeEvent } from "../backend.js";
import { describeWorkerEnd } from "./failure.js";
import { CallQueue } from "./call-queue.js";
import { WorkerProcess, type QueuedCall } from "./worker-process.js";

/** Time a worker may take between calls (or to boot) before it is considered stalled. */
const STALL_MS = 30_000;
/** How often busy workers' resident memory is checked. */
const RSS_CHECK_MS = 200;
/** A call whose workers died this many times before it started is failed. */
const MAX_DISPATCH_FAILURES = 3;
const MAX_BATCH = 32;
/** Time an idle worker gets to exit on its own before it is killed. */
const SHUTDOWN_GRACE_MS = 1000;
/**
 * Allowance past a call's timeout before its worker is killed: the worker's own deadline (a
 * storage step that stalled fails the call naming storage) reports first.
 */
const START_SLACK_MS = 1000;

/** Options of a {@link WorkerPool}. */
export interface PoolOptions {
  /** Number of worker processes. */
  workers: number;
  /** Path of the runtime's local worker entry script. */
  entry: string;
}

/** A pool of local worker processes with one queue. Emits `event` with {@link ComputeEvent}s. */
export class WorkerPool extends EventEmitter {
  private readonly options: PoolOptions;
  private readonly queue = new CallQueue();
  private readonly workers = new Set<WorkerProcess>();
  private readonly storages = new Map<string, Promise<StorageBackend>>();
  private rssTimer: NodeJS.Timeout | null = null;
  private closing = false;

  /** @param options - size and worker entry */
  constructor(options: PoolOptions) {
    super();
    this.options = options;
  }

  /** Number of worker processes alive now. */
  get size(): number {
    return this.workers.size;
  }

  /** Accept the calls of an invocation. */
  submit(payload: InvocationPayload): void {
    for (const call of payload.calls) this.queue.push({ payload, call, dispatchFailures: 0 });
    this.dispatch();
  }

  /** Drop queued (not yet sent) calls of an executor / job; returns how many. */
  cancelPending(executorId: string, jobId?: string): number {
    return this.queue.removeWhere((q) => q.payload.executorId === executorId && (jobId === undefined || q.payload.jobId === jobId));
  }

  /**
   * Stop the running calls of an executor / job: their workers are killed (other calls sent to
   * those workers go back to the queue) and replaced; returns how many calls were stopped.
   */
  cancelRunning(executorId: string, jobId?: string): number {
    const matches = (q: QueuedCall): boolean => q.payload.executorId === executorId && (jobId === undefined || q.payload.jobId === jobId);
    let stopped = 0;
    for (const worker of this.workers) {
      // A worker runs what it was sent in order: stop it only when it runs (or would run next)
      // a cancelled call; cancelled calls queued behind another job's call run and are ignored.
      const head = worker.running ?? worker.inflight[0];
      if (head === undefined || !matches(head) || worker.killReason !== null) continue;
      const keep = worker.inflight.filter((q) => !matches(q) || q === worker.running);
      worker.inflight.splice(0, worker.inflight.length, ...keep);
      worker.kill({ kind: "cancelled" });
      stopped++;
    }
    return stopped;
  }

  /** Stop every worker and forget queued calls. */
  async close(): Promise<void> {
    this.closing = true;
    this.queue.clear();
    const exits = [...this.workers].map((w) => w.shutdown(SHUTDOWN_GRACE_MS));
    await Promise.all(exits);
    this.stopRssWatch();
    await Promise.all([...this.storages.values()].map(async (s) => (await s).close()));
  }

  private spawn(memoryMb: number): WorkerProcess {
    const worker = new WorkerProcess(
      this.options.entry,
      memoryMb,
      (w, m) => { this.onMessage(w, m); },
      (w, code, signal) => { this.onExit(w, code, signal); },
    );
    this.workers.add(worker);
    return worker;
  }

  private batchSize(): number {
    return Math.max(1, Math.min(MAX_BATCH, Math.floor(this.queue.length / (this.options.workers * 4))));
  }

  /** Hand queued calls to workers that have room, spawning or recycling workers as needed. */
  private dispatch(): void {
    if (this.closing) return;
    while (this.queue.length > 0) {
      const head = this.queue.peek() as QueuedCall;
      const worker = this.workerFor(head.payload.memoryMb);
      if (worker === null) break;
      const n = this.batchSize();
      const batch: QueuedCall[] = [];
      while (batch.length < n && this.queue.peek()?.payload === head.payload) batch.push(this.queue.shift() as QueuedCall);
      const wasIdle = worker.inflight.length === 0;
      worker.send(head.payload, batch);
      if (wasIdle) {
        worker.setActive(true);
        if (worker.ready) this.startHead(worker);
        else worker.setTimer(STALL_MS, () => { worker.kill({ kind: "stall" }); });
      }
    }
    this.updateRssWatch();
  }

  /** A worker of this memory size with room for more calls (idle ones first), or null. */
  private workerFor(memoryMb: number): WorkerProcess | null {
    const usable = [...this.workers].filter((w) => !w.exited && !w.retiring && w.killReason === null);
    const idle = usable.find((w) => w.inflight.length === 0 && w.memoryMb === memoryMb);
    if (idle !== undefined) return idle;
    if (this.workers.size < this.options.workers) return this.spawn(memoryMb);
    const wrongSize = usable.find((w) => w.inflight.length === 0 && w.memoryMb !== memoryMb);
    if (wrongSize !== undefined) {
      wrongSize.kill({ kind: "shutdown" });
      this.workers.delete(wrongSize);
      return this.spawn(memoryMb);
    }
    return usable.find((w) => w.inflight.length < 2 && w.memoryMb === memoryMb) ?? null;
  }

  private onMessage(worker: WorkerProcess, message: WorkerMessage): void {
    switch (message.type) {
      case "ready":
        worker.ready = true;
        this.startHead(worker);
        return;
      case "status":
        this.onStatus(worker, message.status);
        return;
      case "retiring":
        worker.retiring = true;
        worker.running = null;
        worker.clearTimer();
        return;
      case "fault":
        // Logged against the guilty call on the client's stderr; no call's outcome changes.
        process.stderr.write(message.text.replace(/^tswren: /, `tswren (localhost worker pid ${worker.pid}): `));
        return;
    }
  }

  /**
   * The worker runs its calls in the order they were sent, so the head of its in-flight list is
   * the call running now: arm that call's timeout and report it as started.
   */
  private startHead(worker: WorkerProcess): void {
    const head = worker.inflight[0];
    if (head === undefined || worker.running === head || worker.retiring) return;
    worker.running = head;
    worker.runningSinceMs = Date.now();
    const limitMs = head.payload.timeoutMs;
    worker.setTimer(limitMs + START_SLACK_MS, () => { worker.kill({ kind: "timeout", limitMs }); });
    const { executorId, jobId } = head.payload;
    this.emit("event", { type: "start", executorId, jobId, callId: head.call.callId, attempt: head.call.attempt, workerStartMs: worker.runningSinceMs } satisfies ComputeEvent);
  }

  private onStatus(worker: WorkerProcess, status: CallStatus): void {
    const i = worker.inflight.findIndex((q) => q.call.callId === status.callId && q.payload.jobId === status.jobId && q.payload.executorId === status.executorId);
    if (i >= 0) worker.inflight.splice(i, 1);
    worker.running = null;
    worker.clearTimer();
    this.emit("event", { type: "status", status } satisfies ComputeEvent);
    if (worker.inflight.length === 0) worker.setActive(false);
    this.dispatch();
    this.startHead(worker);
  }

  private onExit(worker: WorkerProcess, code: number | null, signal: NodeJS.Signals | null): void {
    this.workers.delete(worker);
    if (this.closing) return;
    const running = worker.running;
    const notStarted = worker.inflight.filter((q) => q !== running);
    if (running !== null) this.failCall(running, describeWorkerEnd(worker, code, signal), worker.pid);
    const requeue: QueuedCall[] = [];
    for (const q of notStarted) {
      q.dispatchFailures += running === null && !worker.retiring ? 1 : 0;
      if (q.dispatchFailures >= MAX_DISPATCH_FAILURES) {
        this.failCall(q, { kind: "lost", name: "WorkerDied", message: `workers died ${q.dispatchFailures} times before the call could start; last: ${describeWorkerEnd(worker, code, signal).message}` }, worker.pid);
      } else {
        requeue.push(q);
      }
    }
    this.queue.unshiftAll(requeue);
    this.dispatch();
  }

  /**
   * Report a call as failed on the host's behalf: emit it at once, then write its status (best
   * effort: a stalled store must not delay the report).
   */
  private failCall(q: QueuedCall, error: RemoteErrorInfo, pid: number): void {
    const status = failedStatus(q.payload, q.call, error, `local-${pid}`);
    this.emit("event", { type: "status", status, byPlatform: true } satisfies ComputeEvent);
    this.writeStatus(q.payload, status).catch(() => undefined);
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

  private updateRssWatch(): void {
    const busy = [...this.workers].some((w) => w.inflight.length > 0);
    if (busy && this.rssTimer === null) {
      this.rssTimer = setInterval(() => { this.checkRss(); }, RSS_CHECK_MS);
      this.rssTimer.unref();
    } else if (!busy) {
      this.stopRssWatch();
    }
  }

  private stopRssWatch(): void {
    if (this.rssTimer) clearInterval(this.rssTimer);
    this.rssTimer = null;
  }

  private checkRss(): void {
    for (const w of this.workers) {
      if (w.running === null) continue;
      const rssMb = w.rssMb();
      if (rssMb > w.memoryMb) w.kill({ kind: "oom", rssMb });
    }
    this.updateRssWatch();
  }
}
