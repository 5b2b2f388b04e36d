/**
 * The queue-and-slots engine shared by the localhost pool (worker processes) and the docker pool
 * (containers): one FIFO queue of calls handed in batches to at most `maxSlots` slots, idle slots
 * of the payload's spec first. It guarantees that every accepted call ends: the subclass reports
 * how a slot ended, and the pool fails the call it was running, re-queues the calls that had not
 * started (failing one after {@link MAX_DISPATCH_FAILURES} such ends) and starts slots on demand.
 */
import { EventEmitter } from "node:events";
import { failedStatus } from "../protocol.js";
import type { CallStatus, InvocationPayload, RemoteErrorInfo } from "../protocol.js";
import type { ComputeEvent } from "./backend.js";
import { CallQueue } from "./call-queue.js";
import { PayloadStorages } from "./payload-storages.js";
import type { PoolSlot, QueuedCall } from "./pool-slot.js";

/** A call whose slots ended this many times before it started is failed. */
export const MAX_DISPATCH_FAILURES = 3;
const MAX_BATCH = 32;

/** How a pool names its slots in messages: `workers died`, `containers ended`. */
export interface SlotWords {
  /** Plural noun and verb of the message of a call that never started, e.g. "workers died". */
  ended: string;
}

/** Queue and slots of a pool. Emits `event` with {@link ComputeEvent}s. */
export abstract class SlotPool<S extends PoolSlot> extends EventEmitter {
  protected readonly queue = new CallQueue();
  protected readonly slots = new Set<S>();
  protected readonly storages = new PayloadStorages();
  protected closing = false;

  /**
   * @param maxSlots - most slots alive at once
   * @param words - how messages name the slots
   */
  constructor(private readonly maxSlots: number, private readonly words: SlotWords) {
    super();
  }

  /** Start a slot that runs payloads like `payload`. */
  protected abstract startSlot(payload: InvocationPayload): S;

  /** The spec key of the slots that run `payload` (see {@link PoolSlot.specKey}). */
  protected abstract specKeyOf(payload: InvocationPayload): string;

  /** Calls were sent to a slot that had none: arm its start (or stall) handling. */
  protected abstract sentToIdle(slot: S): void;

  /** The name of a slot in call statuses (`executedOn`). */
  protected abstract slotName(slot: S): string;

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
   * Stop the running calls of an executor / job: their slots are killed (other calls sent to
   * those slots go back to the queue) and replaced; returns how many calls were stopped.
   */
  cancelRunning(executorId: string, jobId?: string): number {
    const matches = (q: QueuedCall): boolean => q.payload.executorId === executorId && (jobId === undefined || q.payload.jobId === jobId);
    let stopped = 0;
    for (const slot of this.slots) {
      // A slot runs what it was sent in order: stop it only when it runs (or would run next)
      // a cancelled call; cancelled calls queued behind another job's call run and are ignored.
      const head = slot.running ?? slot.inflight[0];
      if (head === undefined || !matches(head) || slot.killReason !== null) continue;
      const keep = slot.inflight.filter((q) => !matches(q) || q === slot.running);
      slot.inflight.splice(0, slot.inflight.length, ...keep);
      slot.kill({ kind: "cancelled" });
      stopped++;
    }
    return stopped;
  }

  /** Stop taking calls, end every slot with `shutdown` and close the storage clients. */
  protected async closeSlots(shutdown: (slot: S) => Promise<void>): Promise<void> {
    this.closing = true;
    this.queue.clear();
    await Promise.all([...this.slots].map(shutdown));
    await this.storages.close();
  }

  private batchSize(): number {
    return Math.max(1, Math.min(MAX_BATCH, Math.floor(this.queue.length / (this.maxSlots * 4))));
  }

  /** Hand queued calls to slots that have room, starting or replacing slots as needed. */
  protected dispatch(): void {
    if (this.closing) return;
    while (this.queue.length > 0) {
      const head = this.queue.peek() as QueuedCall;
      const slot = this.slotFor(head.payload);
      if (slot === null) break;
      const n = this.batchSize();
      const batch: QueuedCall[] = [];
      while (batch.length < n && this.queue.peek()?.payload === head.payload) batch.push(this.queue.shift() as QueuedCall);
      const wasIdle = slot.inflight.length === 0;
      slot.send(head.payload, batch);
      if (wasIdle) {
        slot.setActive(true);
        this.sentToIdle(slot);
      }
    }
  }

  /** A slot for `payload` with room for more calls (idle ones first), or null. */
  private slotFor(payload: InvocationPayload): S | null {
    const key = this.specKeyOf(payload);
    const usable = [...this.slots].filter((s) => !s.exited && !s.retiring && s.killReason === null);
    const idle = usable.find((s) => s.inflight.length === 0 && s.specKey === key);
    if (idle !== undefined) return idle;
    if (this.slots.size < this.maxSlots) return this.started(payload);
    const other = usable.find((s) => s.inflight.length === 0 && s.specKey !== key);
    if (other !== undefined) {
      other.kill({ kind: "shutdown" });
      this.slots.delete(other);
      return this.started(payload);
    }
    return usable.find((s) => s.inflight.length < 2 && s.specKey === key) ?? null;
  }

  private started(payload: InvocationPayload): S {
    const slot = this.startSlot(payload);
    this.slots.add(slot);
    return slot;
  }

  /** A call's status came from its slot: forget the call, report it, hand out more calls. */
  protected onStatus(slot: S, status: CallStatus): void {
    const i = slot.inflight.findIndex((q) => q.call.callId === status.callId && q.payload.jobId === status.jobId && q.payload.executorId === status.executorId);
    const q = i >= 0 ? slot.inflight.splice(i, 1)[0] : undefined;
    this.emit("event", { type: "status", status } satisfies ComputeEvent);
    if (q !== undefined) this.recordStatus(q.payload, status, false);
    if (slot.inflight.length === 0) slot.setActive(false);
    this.dispatch();
  }

  /** Report that `slot`'s runtime started its head call (`workerStartMs` by the slot's clock). */
  protected reportStart(head: QueuedCall, workerStartMs: number): void {
    const { executorId, jobId } = head.payload;
    this.emit("event", { type: "start", executorId, jobId, callId: head.call.callId, attempt: head.call.attempt, workerStartMs } satisfies ComputeEvent);
  }

  /**
   * A slot is gone: fail the call it was running with `error`, re-queue the calls it had not
   * started (failing those whose slots ended too often), and hand out calls again.
   */
  protected onSlotEnd(slot: S, error: RemoteErrorInfo): void {
    this.slots.delete(slot);
    if (this.closing) return;
    const running = slot.running;
    const notStarted = slot.inflight.filter((q) => q !== running);
    if (running !== null) this.failCall(running, error, slot);
    const requeue: QueuedCall[] = [];
    for (const q of notStarted) {
      q.dispatchFailures += running === null && !slot.retiring ? 1 : 0;
      if (q.dispatchFailures >= MAX_DISPATCH_FAILURES) {
        this.failCall(q, { kind: "lost", name: "WorkerDied", message: `${this.words.ended} ${q.dispatchFailures} times before the call could start; last: ${error.message}` }, slot);
      } else {
        requeue.push(q);
      }
    }
    this.queue.unshiftAll(requeue);
    this.dispatch();
  }

  /**
   * Report a call as failed on the platform's behalf: emit it at once, then record its status
   * (best effort: a stalled store must not delay the report).
   */
  private failCall(q: QueuedCall, error: RemoteErrorInfo, slot: S): void {
    const status = failedStatus(q.payload, q.call, error, this.slotName(slot));
    this.emit("event", { type: "status", status, byPlatform: true } satisfies ComputeEvent);
    this.recordStatus(q.payload, status, true);
  }

  /**
   * Store a status the pool reported (after the event). By default only statuses the pool made
   * itself (`byPlatform`) are written, as `status.json`: the slots' runtimes write their own.
   */
  protected recordStatus(payload: InvocationPayload, status: CallStatus, byPlatform: boolean): void {
    if (byPlatform) this.storages.writeStatus(payload, status).catch(() => undefined);
  }
}
