/**
 * Which calls of an invocation wrote no status of their own: read from the job storage named in
 * the payload (one client per storage, opened on first use). Used when the platform says an
 * activation died, so that a call that reported before the activation ended keeps its status.
 */
import { decodeStatus } from "../protocol.js";
import type { CallSpec, InvocationPayload } from "../protocol.js";
import type { StorageBackend } from "../storage/backend.js";
import * as keys from "../storage/keys.js";
import { createStorageBackend } from "../storage/registry.js";

/** Reads calls' `status.json` to tell which ones did not report. */
export class UnreportedCalls {
  private readonly storages = new Map<string, Promise<StorageBackend>>();

  /**
   * The calls of `payload` with no status for their attempt (or a later one).
   * @param payload - the invocation (storage, ids, calls)
   * @returns the calls that did not report; on a storage failure, those not known to have reported
   */
  async of(payload: InvocationPayload): Promise<CallSpec[]> {
    const storage = await this.storageOf(payload);
    const { bucket, prefix } = payload.storage;
    const reported = await Promise.all(payload.calls.map(async (call) => {
      try {
        const text = (await storage.get(bucket, keys.statusKey(prefix, payload.executorId, payload.jobId, call.callId))).toString("utf8");
        const status = decodeStatus(text);
        return status.jobNonce === payload.jobNonce && status.attempt >= call.attempt;
      } catch {
        // No status (or storage did not answer): the call is not known to have reported.
        return false;
      }
    }));
    return payload.calls.filter((_, i) => !(reported[i] ?? false));
  }

  /** Close the storage clients. */
  async close(): Promise<void> {
    const all = [...this.storages.values()];
    this.storages.clear();
    for (const s of all) await s.then((b) => b.close(), () => undefined);
  }

  private storageOf(payload: InvocationPayload): Promise<StorageBackend> {
    const ref = payload.storage;
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
