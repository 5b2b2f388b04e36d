/**
 * The job storages named in invocation payloads, one client per storage (backend and config),
 * opened on first use. Backends that write or read call records on the platform's behalf (the
 * pools' failed statuses, unreported calls, staged payloads) share it.
 */
import type { CallStatus, InvocationPayload } from "../protocol.js";
import type { StorageBackend } from "../storage/backend.js";
import { statusKey } from "../storage/keys.js";
import { writeStatusUnlessSuperseded } from "../storage/status-write.js";
import { createStorageBackend } from "../storage/registry.js";

/** Storage clients keyed by the storage a payload names. */
export class PayloadStorages {
  private readonly clients = new Map<string, Promise<StorageBackend>>();

  /**
   * The client of the storage `payload` names; a client that failed to open is forgotten, so the
   * next use tries again.
   * @param payload - the invocation whose `storage` to open
   * @returns the storage client
   */
  of(payload: InvocationPayload): Promise<StorageBackend> {
    const ref = payload.storage;
    const id = JSON.stringify([ref.backend, ref.config]);
    let storage = this.clients.get(id);
    if (storage === undefined) {
      storage = createStorageBackend(ref.backend, ref.config);
      this.clients.set(id, storage);
      storage.catch(() => { this.clients.delete(id); });
    }
    return storage;
  }

  /**
   * Write a call's `status.json` in the job storage of `payload` (unless a later attempt wrote first).
   * @param payload - the invocation the call belongs to
   * @param status - the status to write
   * @throws TswrenError from the storage backend
   */
  async writeStatus(payload: InvocationPayload, status: CallStatus): Promise<void> {
    const ref = payload.storage;
    await writeStatusUnlessSuperseded(await this.of(payload), ref.bucket, statusKey(ref.prefix, payload.executorId, payload.jobId, status.callId), status, payload.maxAttempts);
  }

  /** Close every client (clients that failed to open are skipped). */
  async close(): Promise<void> {
    const all = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(all.map((s) => s.then((b) => b.close(), () => undefined).catch(() => undefined)));
  }
}
