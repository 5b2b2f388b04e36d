/**
 * The localhost pool's status records: statuses already reach the client over IPC, so no worker
 * writes a `status.json` per call. The pool hands each status here instead, and this writer
 * stores a job's statuses in batches (`<job>/statuses/<batchId>.gz`, see
 * `storage/status-records.ts`) at most {@link FLUSH_MS} after they arrived or every
 * {@link BATCH_RECORDS} records, for `tswren logs`, `attach`, reducers and the storage monitor.
 * Nothing waits for these writes on the way to a future.
 */
import type { CallStatus, StorageRef } from "../../protocol.js";
import type { StorageBackend } from "../../storage/backend.js";
import { statusBatchKey } from "../../storage/keys.js";
import { createStorageBackend } from "../../storage/registry.js";
import { encodeStatusBatch } from "../../storage/status-records.js";

/** Longest time a status waits for its batch to be written, ms. */
export const FLUSH_MS = 100;
/** Records per batch object at most. */
export const BATCH_RECORDS = 4096;

interface Pending {
  ref: StorageRef;
  executorId: string;
  jobId: string;
  statuses: CallStatus[];
}

/** Batches statuses per job and writes them to the job's storage. */
export class StatusBatcher {
  private readonly pending = new Map<string, Pending>();
  private readonly writing = new Set<Promise<void>>();
  private readonly storages = new Map<string, Promise<StorageBackend>>();
  private readonly warned = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;

  /** Record a status of a call whose job lives in `ref`. */
  add(ref: StorageRef, status: CallStatus): void {
    const id = `${status.executorId}-${status.jobId}\n${JSON.stringify([ref.backend, ref.bucket, ref.prefix, ref.config])}`;
    let p = this.pending.get(id);
    if (p === undefined) {
      p = { ref, executorId: status.executorId, jobId: status.jobId, statuses: [] };
      this.pending.set(id, p);
    }
    p.statuses.push(status);
    if (p.statuses.length >= BATCH_RECORDS) {
      this.pending.delete(id);
      this.write(p);
    }
    this.timer ??= setTimeout(() => { this.flushPending(); }, FLUSH_MS);
  }

  /** Write every pending batch (of one executor, when given) now; resolves once all writes ended. */
  async flush(executorId?: string): Promise<void> {
    for (const [id, p] of this.pending) {
      if (executorId !== undefined && p.executorId !== executorId) continue;
      this.pending.delete(id);
      this.write(p);
    }
    await Promise.all([...this.writing]);
  }

  /** Write what is pending, wait for it, and release the storage clients. */
  async close(): Promise<void> {
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.all([...this.storages.values()].map(async (s) => (await s).close()));
    this.storages.clear();
  }

  private flushPending(): void {
    this.timer = null;
    for (const p of this.pending.values()) this.write(p);
    this.pending.clear();
  }

  private write(p: Pending): void {
    const batchId = `${String(this.seq++).padStart(8, "0")}-${process.pid}`;
    const done = this.store(p, batchId).catch((err: unknown) => { this.warn(p, err); });
    const tracked = done.finally(() => { this.writing.delete(tracked); });
    this.writing.add(tracked);
  }

  private async store(p: Pending, batchId: string): Promise<void> {
    const body = await encodeStatusBatch(p.statuses);
    const storage = await this.storageOf(p.ref);
    await storage.put(p.ref.bucket, statusBatchKey(p.ref.prefix, p.executorId, p.jobId, batchId), body);
  }

  /** A failed write loses only stored copies (futures already have their statuses): say so once per job. */
  private warn(p: Pending, err: unknown): void {
    const job = `${p.executorId}-${p.jobId}`;
    if (this.warned.has(job)) return;
    this.warned.add(job);
    process.stderr.write(`tswren: could not store the call statuses of job ${job} (tswren logs and attach will miss them): ${err instanceof Error ? err.message : String(err)}\n`);
  }

  private storageOf(ref: StorageRef): Promise<StorageBackend> {
    const id = JSON.stringify([ref.backend, ref.config]);
    let storage = this.storages.get(id);
    if (storage === undefined) {
      storage = createStorageBackend(ref.backend, ref.config);
      this.storages.set(id, storage);
      storage.catch(() => { this.storages.delete(id); });
    }
    return storage;
  }
}
