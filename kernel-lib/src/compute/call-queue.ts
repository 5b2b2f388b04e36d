/** FIFO queue of calls with O(1) take from the front (arrays' shift is O(n) at 100,000 calls). */
import type { QueuedCall } from "./pool-slot.js";

const COMPACT_AFTER = 4096;

/** The pool's queue of calls not yet sent to a slot. */
export class CallQueue {
  private items: QueuedCall[] = [];
  private head = 0;

  /** Number of queued calls. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** The next call, without taking it. */
  peek(): QueuedCall | undefined {
    return this.items[this.head];
  }

  /** Add a call at the back. */
  push(call: QueuedCall): void {
    this.items.push(call);
  }

  /** Take the next call. */
  shift(): QueuedCall | undefined {
    if (this.head >= this.items.length) return undefined;
    const call = this.items[this.head];
    this.items[this.head] = undefined as unknown as QueuedCall;
    this.head++;
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return call;
  }

  /** Put calls back at the front, in order (calls whose slot ended before they started). */
  unshiftAll(calls: readonly QueuedCall[]): void {
    if (calls.length === 0) return;
    this.items = [...calls, ...this.items.slice(this.head)];
    this.head = 0;
  }

  /** Remove the calls matching `predicate`; returns how many. */
  removeWhere(predicate: (call: QueuedCall) => boolean): number {
    const kept = this.items.slice(this.head).filter((c) => !predicate(c));
    const removed = this.length - kept.length;
    this.items = kept;
    this.head = 0;
    return removed;
  }

  /** Drop every call. */
  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
