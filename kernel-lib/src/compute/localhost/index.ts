/**
 * The localhost compute backend: calls run in a persistent pool of local worker processes,
 * shared by every executor of this process with the same pool size. Worker events arrive on a
 * direct channel (IPC), so no storage polling is needed.
 */
import { ErrorCodes, TswrenError } from "../../errors.js";
import type { InvocationPayload } from "../../protocol.js";
import type { ConfigSection } from "../../config/types.js";
import type { ComputeBackend, ComputeCapabilities, ComputeEvent, InvokeReceipt } from "../backend.js";
import { WorkerPool } from "./pool.js";
import { runtimeFile } from "../runtime-files.js";
import { showOnly } from "../../security/opaque.js";

/** The keys of config section `localhost` the pool reads. */
export type LocalhostComputeConfig = Pick<ConfigSection<"localhost">, "worker_processes">;

interface SharedPool {
  pool: WorkerPool;
  users: number;
}

const pools = new Map<number, SharedPool>();

/** Path of the runtime's local worker script inside this package's build. */
export function localWorkerEntry(): string {
  return runtimeFile("local-worker.mjs");
}

/** Calls run in local worker processes. */
export class LocalhostCompute implements ComputeBackend {
  readonly name = "localhost";
  /**
   * Events over IPC; pending and running calls can be cancelled; every call is reported; the
   * pool stores statuses in batches per job (no `status.json` per call).
   */
  readonly capabilities: ComputeCapabilities = {
    reportsEveryCall: true,
    events: { subscribe: (listener) => this.onEvent(listener) },
    cancelPending: { cancel: (executorId, jobId) => this.cancelPending(executorId, jobId) },
    cancelRunning: { cancel: (executorId, jobId) => this.cancelRunning(executorId, jobId) },
    statusRecords: { flush: (executorId) => this.shared.pool.records.flush(executorId) },
  };
  /** The pool splits invocations into batches itself, so a whole job travels as one. */
  readonly callsPerInvocation = Number.POSITIVE_INFINITY;
  private readonly workers: number;
  private readonly shared: SharedPool;
  private readonly unsubscribes = new Set<() => void>();
  private closed = false;

  /** @param config - the loaded `localhost` section */
  constructor(config: LocalhostComputeConfig) {
    showOnly(this, "LocalhostCompute", () => ({ backend: this.name, describe: this.describe() }));
    this.workers = config.worker_processes;
    let shared = pools.get(this.workers);
    if (shared === undefined) {
      shared = { pool: new WorkerPool({ workers: this.workers, entry: localWorkerEntry() }), users: 0 };
      pools.set(this.workers, shared);
    }
    shared.users++;
    this.shared = shared;
  }

  invoke(payload: InvocationPayload): Promise<InvokeReceipt> {
    if (this.closed) return Promise.reject(new TswrenError(ErrorCodes.EXECUTOR_CLOSED, "the localhost backend was closed; create a new executor"));
    this.shared.pool.submit(payload);
    return Promise.resolve({ activationId: `${payload.executorId}-${payload.jobId}-${payload.calls[0]?.callId ?? "none"}` });
  }

  /** Subscribe to the pool's events (the `events` capability); returns unsubscribe. */
  onEvent(listener: (event: ComputeEvent) => void): () => void {
    this.shared.pool.on("event", listener);
    const off = (): void => {
      this.shared.pool.off("event", listener);
      this.unsubscribes.delete(off);
    };
    this.unsubscribes.add(off);
    return off;
  }

  /** Drop this executor's queued calls (the `cancelPending` capability); returns how many. */
  cancelPending(executorId: string, jobId?: string): number {
    return this.shared.pool.cancelPending(executorId, jobId);
  }

  /** Kill this executor's running calls (the `cancelRunning` capability); returns how many. */
  cancelRunning(executorId: string, jobId?: string): number {
    return this.shared.pool.cancelRunning(executorId, jobId);
  }

  describe(): string {
    return `localhost: ${this.workers} worker processes (node ${process.version})`;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const off of [...this.unsubscribes]) off();
    this.shared.users--;
    if (this.shared.users === 0) {
      pools.delete(this.workers);
      await this.shared.pool.close();
    }
  }
}
