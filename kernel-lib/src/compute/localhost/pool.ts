/**
 * The localhost worker pool: a fixed number of persistent worker processes fed from one FIFO
 * queue of calls (the {@link SlotPool} engine). It guarantees that every accepted call ends: it
 * kills a call's worker at the call's timeout or when the worker exceeds its memory, reports a
 * dead worker's running call as failed, re-queues the calls that had not started, and replaces
 * dead workers. Workers write no `status.json`: the pool stores every status it reports in
 * batches per job ({@link StatusBatcher}).
 */
import type { CallStatus, InvocationPayload, WorkerMessage } from "../../protocol.js";
import { SlotPool } from "../slot-pool.js";
import { describeWorkerEnd } from "./failure.js";
import { StatusBatcher } from "./status-batcher.js";
import { WorkerProcess } from "./worker-process.js";

/** Time a worker may take between calls (or to boot) before it is considered stalled. */
const STALL_MS = 30_000;
/** How often busy workers' resident memory is checked. */
const RSS_CHECK_MS = 200;
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
export class WorkerPool extends SlotPool<WorkerProcess> {
  private readonly options: PoolOptions;
  private rssTimer: NodeJS.Timeout | null = null;
  /** Stored copies of the statuses (batched per job; futures get them over IPC first). */
  readonly records = new StatusBatcher();

  /** @param options - size and worker entry */
  constructor(options: PoolOptions) {
    super(options.workers, { ended: "workers died" });
    this.options = options;
  }

  /** Number of worker processes alive now. */
  get size(): number {
    return this.slots.size;
  }

  /** Stop every worker and forget queued calls. */
  async close(): Promise<void> {
    await this.closeSlots((w) => w.shutdown(SHUTDOWN_GRACE_MS));
    this.stopRssWatch();
    await this.records.close();
  }

  /** Accept the calls of an invocation. */
  override submit(payload: InvocationPayload): void {
    // A reducer reads its map calls' statuses from storage: store them now rather than in 100 ms.
    if (payload.calls.some((c) => c.input.kind === "reduce")) void this.records.flush(payload.executorId);
    super.submit(payload);
  }

  protected override recordStatus(payload: InvocationPayload, status: CallStatus): void {
    this.records.add(payload.storage, status);
  }

  protected startSlot(payload: InvocationPayload): WorkerProcess {
    return new WorkerProcess(
      this.options.entry,
      payload.memoryMb,
      (w, m) => { this.onMessage(w, m); },
      (w, code, signal) => { this.onSlotEnd(w, describeWorkerEnd(w, code, signal)); },
    );
  }

  protected specKeyOf(payload: InvocationPayload): string {
    return String(payload.memoryMb);
  }

  protected slotName(worker: WorkerProcess): string {
    return `local-${worker.pid}`;
  }

  protected sentToIdle(worker: WorkerProcess): void {
    if (worker.ready) this.startHead(worker);
    else worker.setTimer(STALL_MS, () => { worker.kill({ kind: "stall" }); });
  }

  protected override dispatch(): void {
    super.dispatch();
    if (!this.closing) this.updateRssWatch();
  }

  private onMessage(worker: WorkerProcess, message: WorkerMessage): void {
    switch (message.type) {
      case "ready":
        worker.ready = true;
        this.startHead(worker);
        return;
      case "status":
        this.onWorkerStatus(worker, message.status);
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
    this.reportStart(head, worker.runningSinceMs);
  }

  private onWorkerStatus(worker: WorkerProcess, status: CallStatus): void {
    worker.running = null;
    worker.clearTimer();
    this.onStatus(worker, status);
    this.startHead(worker);
  }

  private updateRssWatch(): void {
    const busy = [...this.slots].some((w) => w.inflight.length > 0);
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
    for (const w of this.slots) {
      if (w.running === null) continue;
      const rssMb = w.rssMb();
      if (rssMb > w.memoryMb) w.kill({ kind: "oom", rssMb });
    }
    this.updateRssWatch();
  }
}
