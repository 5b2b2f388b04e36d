/**
 * What the localhost worker processes and the docker containers have in common as slots of a
 * {@link SlotPool}: the calls sent and not yet reported, the call running now, one timer, why the
 * client ended the slot, the tail of its stderr, and ref/unref of its handles.
 */
import type { CallSpec, InvocationPayload } from "../protocol.js";

/** A call sent to a slot and not yet reported. */
export interface QueuedCall {
  payload: InvocationPayload;
  call: CallSpec;
  /** How many slots ended before this call started (guards against poison loops). */
  dispatchFailures: number;
}

/** Why the client ended a slot, when it did (`oom`: the localhost pool saw its RSS over the limit). */
export type KillReason = { kind: "timeout"; limitMs: number } | { kind: "oom"; rssMb: number } | { kind: "stall" } | { kind: "shutdown" } | { kind: "cancelled" };

/** A handle that can keep the client process alive (child process, pipe, IPC channel). */
export type RefHandle = { ref?(): unknown; unref?(): unknown } | null | undefined;

const STDERR_TAIL_BYTES = 8192;

/** One slot: a process or container that runs the calls sent to it in order. */
export abstract class PoolSlot {
  /** Calls sent and not yet reported, in the order the slot runs them. */
  readonly inflight: QueuedCall[] = [];
  /** The call running now (the head of `inflight` once started). */
  running: QueuedCall | null = null;
  ready = false;
  /** The slot said it runs nothing more: calls still listed in `inflight` never started. */
  retiring = false;
  exited = false;
  killReason: KillReason | null = null;
  stderrTail = "";
  timer: NodeJS.Timeout | null = null;

  /** Slots with equal keys run the same payloads (memory size, mounts). */
  abstract readonly specKey: string;

  /** Send calls (all of one invocation) to the slot. */
  abstract send(payload: InvocationPayload, calls: QueuedCall[]): void;

  /** End the slot at once, remembering why. */
  abstract kill(reason: KillReason): void;

  /** The handles that keep the client process alive while the slot has work. */
  protected abstract refHandles(): RefHandle[];

  /** Keep the client process alive only while this slot has work. */
  setActive(active: boolean): void {
    for (const h of this.refHandles()) {
      if (active) h?.ref?.();
      else h?.unref?.();
    }
  }

  /** Keep the last 8 KiB of the slot's stderr (for failure messages). */
  protected appendStderr(chunk: string): void {
    this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
  }

  /** Replace the running timer. */
  setTimer(ms: number, fire: () => void): void {
    this.clearTimer();
    this.timer = setTimeout(fire, ms);
  }

  /** Stop the running timer. */
  clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
