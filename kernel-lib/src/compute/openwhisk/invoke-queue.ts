/**
 * A FIFO of platform requests with bounded concurrency, a shared back-off when the platform
 * throttles (HTTP 429: the limit is the namespace's, so every request waits, not just the one
 * that was refused), per-request retries with a delay, and a bounded patience: when nothing has
 * been accepted for `giveUpMs` while the platform keeps throttling, the backlog is rejected with
 * a clear error instead of waiting forever.
 */

import { asError } from "../../errors.js";

/** What to do after a failed attempt. */
export type FailureDecision =
  /** Re-queue at the front after the shared pause; `error` is raised if patience runs out. */
  | { kind: "throttled"; error: Error }
  /** Try this request again after `delayMs` (others keep going meanwhile). */
  | { kind: "retry"; delayMs: number }
  /** Reject with `error`. */
  | { kind: "fail"; error: Error };

/** One request: an attempt function and a policy for its failures. */
export interface QueueTask<R> {
  /** Run one attempt. */
  attempt(): Promise<R>;
  /**
   * Decide what follows a failed attempt (may do work first, e.g. deploy a missing action).
   * @param failures - failed attempts of this task so far, this one included
   */
  onFailure(err: unknown, failures: number): Promise<FailureDecision> | FailureDecision;
}

/** Options of {@link InvokeQueue}. */
export interface InvokeQueueOptions {
  /** Requests in flight at once. */
  concurrency: number;
  /** Pauses before retrying after the n-th throttle in a row, seconds; beyond the list, the last doubles (capped). */
  throttleSleepsS: readonly number[];
  /** Longest pause after a throttle. Default 30 s. */
  maxThrottleDelayMs?: number;
  /** Reject the backlog when the platform throttles and nothing was accepted for this long. */
  giveUpMs: number;
  /** The clock (tests may replace it). */
  nowMs?: () => number;
  /** Random numbers in [0, 1) for jitter (tests may replace it). */
  random?: () => number;
}

interface Entry<M> {
  task: QueueTask<unknown>;
  meta: M | undefined;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
  failures: number;
  startedAtMs: number;
}

const MIN_THROTTLE_DELAY_MS = 20;

/**
 * The pause after the n-th throttle in a row: `sleeps[n-1]` seconds while the list lasts, then
 * the last value doubling each time, capped at `maxMs`, with jitter (between half and all of it).
 * @param n - 1-based count of throttles in a row
 */
export function throttleDelayMs(n: number, sleepsS: readonly number[], maxMs: number, random: () => number = Math.random): number {
  const list = sleepsS.length > 0 ? sleepsS : [1];
  const index = Math.min(n, list.length) - 1;
  const base = (list[index] ?? 1) * 1000 * 2 ** Math.max(0, n - list.length);
  const capped = Math.min(maxMs, Math.max(MIN_THROTTLE_DELAY_MS, base));
  return Math.round(capped * (0.5 + random() * 0.5));
}

/** Bounded-concurrency request queue with shared 429 back-off (see the module doc). */
export class InvokeQueue<M = undefined> {
  private readonly queue: Array<Entry<M>> = [];
  private readonly waiting = new Map<ReturnType<typeof setTimeout>, Entry<M>>();
  private readonly options: Required<InvokeQueueOptions>;
  private active = 0;
  private pausedUntilMs = 0;
  private pauseStartMs = 0;
  private throttlesInARow = 0;
  private lastAcceptedMs: number;
  private pumpTimer: ReturnType<typeof setTimeout> | null = null;
  private closedWith: Error | null = null;
  /** Counters for diagnostics and tests. */
  readonly stats = { accepted: 0, throttled: 0, retried: 0, failed: 0 };

  /** @param options - concurrency, back-off and patience */
  constructor(options: InvokeQueueOptions) {
    this.options = { maxThrottleDelayMs: 30_000, nowMs: Date.now, random: Math.random, ...options };
    this.lastAcceptedMs = this.options.nowMs();
  }

  /** Requests queued or waiting to be retried, not yet in flight. */
  get backlog(): number {
    return this.queue.length + this.waiting.size;
  }

  /**
   * Queue a request; resolves with its result once an attempt succeeds.
   * @param meta - what the request is about, for {@link InvokeQueue.cancel}
   * @throws the task's own error, a throttling error when patience ran out, or the close reason
   */
  push<R>(task: QueueTask<R>, meta?: M): Promise<R> {
    if (this.closedWith !== null) return Promise.reject(this.closedWith);
    if (this.active === 0 && this.backlog === 0) this.lastAcceptedMs = this.options.nowMs();
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ task, meta, resolve: resolve as (v: unknown) => void, reject, failures: 0, startedAtMs: 0 });
      this.pump();
    });
  }

  /**
   * Reject the requests not in flight whose meta matches, with `reason`.
   * @returns the metas of the dropped requests
   */
  cancel(matches: (meta: M | undefined) => boolean, reason: Error): Array<M | undefined> {
    const dropped: Array<Entry<M>> = [];
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const e = this.queue[i];
      if (e !== undefined && matches(e.meta)) dropped.unshift(...this.queue.splice(i, 1));
    }
    for (const [timer, e] of this.waiting) {
      if (!matches(e.meta)) continue;
      clearTimeout(timer);
      this.waiting.delete(timer);
      dropped.push(e);
    }
    for (const e of dropped) e.reject(reason);
    return dropped.map((e) => e.meta);
  }

  /** Reject everything not in flight with `reason`, and refuse new requests. */
  close(reason: Error): void {
    if (this.closedWith !== null) return;
    this.closedWith = reason;
    if (this.pumpTimer !== null) clearTimeout(this.pumpTimer);
    for (const [timer, e] of this.waiting) {
      clearTimeout(timer);
      e.reject(reason);
    }
    this.waiting.clear();
    for (const e of this.queue.splice(0)) e.reject(reason);
  }

  private pump(): void {
    if (this.closedWith !== null) return;
    const now = this.options.nowMs();
    if (now < this.pausedUntilMs) {
      this.pumpTimer ??= setTimeout(() => {
        this.pumpTimer = null;
        this.pausedUntilMs = 0; // the timer is re-armed whenever the pause is extended
        this.pump();
      }, this.pausedUntilMs - now);
      return;
    }
    while (this.active < this.options.concurrency && this.queue.length > 0) {
      const entry = this.queue.shift();
      if (entry !== undefined) this.start(entry, now);
    }
  }

  private start(entry: Entry<M>, now: number): void {
    this.active++;
    entry.startedAtMs = now;
    entry.task.attempt().then(
      (value) => {
        this.active--;
        this.stats.accepted++;
        this.throttlesInARow = 0;
        this.lastAcceptedMs = this.options.nowMs();
        entry.resolve(value);
        this.pump();
      },
      (err: unknown) => {
        entry.failures++;
        Promise.resolve()
          .then(() => entry.task.onFailure(err, entry.failures))
          .then(
            (decision) => { this.decide(entry, decision); },
            (policyErr: unknown) => { this.decide(entry, { kind: "fail", error: asError(policyErr) }); },
          );
      },
    );
  }

  private decide(entry: Entry<M>, decision: FailureDecision): void {
    this.active--;
    if (this.closedWith !== null) {
      entry.reject(decision.kind === "retry" ? this.closedWith : decision.error);
      return;
    }
    switch (decision.kind) {
      case "fail":
        this.stats.failed++;
        entry.reject(decision.error);
        break;
      case "retry":
        this.stats.retried++;
        this.later(entry, decision.delayMs);
        break;
      case "throttled":
        this.throttled(entry, decision.error);
        break;
    }
    this.pump();
  }

  private later(entry: Entry<M>, delayMs: number): void {
    const timer = setTimeout(() => {
      this.waiting.delete(timer);
      this.queue.unshift(entry);
      this.pump();
    }, Math.max(0, delayMs));
    this.waiting.set(timer, entry);
  }

  private throttled(entry: Entry<M>, error: Error): void {
    this.stats.throttled++;
    const now = this.options.nowMs();
    if (now - this.lastAcceptedMs >= this.options.giveUpMs) {
      this.stats.failed++;
      entry.reject(error);
      for (const e of this.queue.splice(0)) e.reject(error);
      return;
    }
    // Requests already in flight when the pause began belong to the same throttle round.
    if (entry.startedAtMs >= this.pauseStartMs) {
      this.throttlesInARow++;
      const delay = throttleDelayMs(this.throttlesInARow, this.options.throttleSleepsS, this.options.maxThrottleDelayMs, this.options.random);
      this.pauseStartMs = now;
      this.pausedUntilMs = Math.max(this.pausedUntilMs, now + delay);
      if (this.pumpTimer !== null) {
        clearTimeout(this.pumpTimer);
        this.pumpTimer = null;
      }
    }
    this.queue.unshift(entry);
  }
}
