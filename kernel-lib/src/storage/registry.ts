/**
 * The one table of storage backends. Each is loaded lazily, so a cloud SDK is imported only
 * when its backend is chosen.
 */
import { ErrorCodes, TswrenError } from "../errors.js";
import type { StorageBackend } from "./backend.js";

type Factory = (config: Record<string, unknown>) => Promise<StorageBackend>;

const STORAGE_BACKENDS: Record<string, Factory> = {
  localhost: async (config) => {
    const { LocalhostStorage } = await import("./localhost.js");
    return new LocalhostStorage({ storage_root: String(config["storage_root"]) });
  },
};

/** Names of the storage backends this build knows. */
export function storageBackendNames(): string[] {
  return Object.keys(STORAGE_BACKENDS);
}

/**
 * Create a storage backend by name from its config section.
 * @throws TswrenError `TSWREN_UNKNOWN_BACKEND` naming the known ones
 */
export async function createStorageBackend(name: string, config: Record<string, unknown>): Promise<StorageBackend> {
  const factory = STORAGE_BACKENDS[name];
  if (factory === undefined) {
    throw new TswrenError(
      ErrorCodes.UNKNOWN_BACKEND,
      `storage backend "${name}" is not available in this tswren build; known: ${storageBackendNames().join(", ")}`,
    );
  }
  return factory(config);
}
