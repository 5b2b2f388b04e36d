/**
 * The monitor plug-point: how the client learns that calls started and ended. The direct
 * monitor listens to a backend's own channel; storage polling and RabbitMQ monitors implement
 * the same interface for remote backends.
 */
import type { CallStatus } from "../protocol.js";

/** What a monitor reports to the executor. */
export interface MonitorSink {
  /** A worker picked up a call. */
  onStart(jobId: string, callId: string, attempt: number, workerStartMs: number): void;
  /** A call attempt ended (success or failure). */
  onStatus(status: CallStatus): void;
  /**
   * The nonce of a job this executor submitted (undefined for a job it does not know): monitors
   * drop statuses and start messages that do not carry it (see `nonce.ts`).
   */
  jobNonce(jobId: string): string | undefined;
}

/** Watches one executor's calls until stopped. */
export interface Monitor {
  start(): void;
  /** New calls were invoked (optional: watch closely again). */
  nudge?(): void;
  /** Stop watching and release connections and timers. */
  stop(): void | Promise<void>;
}
