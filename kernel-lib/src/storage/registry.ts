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
  s3: (config) => s3Backend("s3", config),
  ibm_cos: (config) => s3Backend("ibm_cos", config),
  minio: (config) => s3Backend("minio", config),
};

/** An S3-compatible backend from its config section; loads the AWS SDK on first use. */
async function s3Backend(section: "s3" | "ibm_cos" | "minio", config: Record<string, unknown>): Promise<StorageBackend> {
  const { S3Storage, s3StorageOptions } = await import("./s3.js");
  return new S3Storage(s3StorageOptions(section, config));
}

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
