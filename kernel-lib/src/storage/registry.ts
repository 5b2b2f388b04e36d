/**
 * The one table of storage backends. Each is loaded lazily, so a cloud SDK is imported only
 * when its backend is chosen. Each entry takes the typed config section its backend reads (see
 * `config/sections.ts`); the table is keyed by the `tswren.storage` enum, so a missing entry does
 * not compile.
 */
import { storageSection, storageSectionName } from "../config/sections.js";
import type { StorageConfig, StorageName } from "../config/sections.js";
import type { TswrenConfig } from "../config/types.js";
import { validateSection } from "../config/validate.js";
import { ErrorCodes, TswrenError } from "../errors.js";
import type { StorageBackend } from "./backend.js";

/** Creates one storage backend from its typed section. */
export type StorageFactory<N extends StorageName> = (config: StorageConfig<N>) => Promise<StorageBackend>;

const STORAGE_BACKENDS: { readonly [N in StorageName]: StorageFactory<N> } = {
  localhost: async (config) => {
    const { LocalhostStorage } = await import("./localhost.js");
    return new LocalhostStorage(config);
  },
  s3: async (config) => {
    const { S3Storage, s3StorageOptions } = await import("./s3.js");
    return new S3Storage(s3StorageOptions("s3", config));
  },
  ibm_cos: async (config) => {
    const { S3Storage, s3StorageOptions } = await import("./s3.js");
    return new S3Storage(s3StorageOptions("ibm_cos", config));
  },
  minio: async (config) => {
    const { S3Storage, s3StorageOptions } = await import("./s3.js");
    return new S3Storage(s3StorageOptions("minio", config));
  },
};

/** Names of the storage backends this build knows (the `tswren.storage` values). */
export function storageBackendNames(): StorageName[] {
  return Object.keys(STORAGE_BACKENDS) as StorageName[];
}

function isStorageName(name: string): name is StorageName {
  return Object.hasOwn(STORAGE_BACKENDS, name);
}

/**
 * Create a storage backend by name from its section's keys as they crossed a process boundary
 * (a job payload's storage ref) or were written by hand: the keys are validated against the
 * section's schema and its defaults applied first.
 * @param name - a `tswren.storage` value
 * @param config - the section's keys, snake_case
 * @throws TswrenError `TSWREN_UNKNOWN_BACKEND` naming the known ones, `TSWREN_CONFIG_BAD_VALUE`
 *   / `TSWREN_CONFIG_UNKNOWN_KEY` for keys the section does not accept
 */
export async function createStorageBackend(name: string, config: Readonly<Record<string, unknown>>): Promise<StorageBackend> {
  if (!isStorageName(name)) {
    throw new TswrenError(
      ErrorCodes.UNKNOWN_BACKEND,
      `storage backend "${name}" is not available in this tswren build; known: ${storageBackendNames().join(", ")}`,
    );
  }
  return createChecked(name, config);
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- N ties the table entry to its section type
function createChecked<N extends StorageName>(name: N, raw: Readonly<Record<string, unknown>>): Promise<StorageBackend> {
  const factory: StorageFactory<N> = STORAGE_BACKENDS[name];
  return factory(validateSection(storageSectionName(name), raw, `the ${name} storage config`));
}

/**
 * Create the storage backend a loaded config selects (`tswren.storage`), from its section.
 * @throws the backend's own errors (e.g. `TSWREN_STORAGE_CREDENTIALS`)
 */
export function createSelectedStorage(config: TswrenConfig): Promise<StorageBackend> {
  return createTyped(config.tswren.storage, config);
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- N ties the table entry to its section type
function createTyped<N extends StorageName>(name: N, config: TswrenConfig): Promise<StorageBackend> {
  const factory: StorageFactory<N> = STORAGE_BACKENDS[name];
  return factory(storageSection(config, name));
}
