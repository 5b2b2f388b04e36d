/** One storage backend per distinct storage config, kept for the life of the worker. */
import { createStorageBackend } from "tswren/internal";
import type { StorageBackend, StorageRef } from "tswren/internal";

const backends = new Map<string, Promise<StorageBackend>>();

/** The storage backend described by `ref`, created on first use. */
export function storageFor(ref: StorageRef): Promise<StorageBackend> {
  const id = JSON.stringify([ref.backend, ref.config]);
  let backend = backends.get(id);
  if (backend === undefined) {
    backend = createStorageBackend(ref.backend, ref.config);
    backends.set(id, backend);
  }
  return backend;
}
