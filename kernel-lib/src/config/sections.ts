/**
 * Which config section a selected backend reads: the one place that maps `tswren.backend` and
 * `tswren.storage` values to sections. A compute backend reads the section of its own name; the
 * localhost storage reads `localhost_storage`, every other storage the section of its name.
 */
import { ErrorCodes, TswrenError } from "../errors.js";
import type { CONFIG_SCHEMA, SectionName } from "./schema.js";
import type { BackendOptions, ConfigSection, TswrenConfig } from "./types.js";

type TswrenKeys = (typeof CONFIG_SCHEMA)["tswren"]["keys"];

/** A compute backend name: a value of the `tswren.backend` enum. */
export type ComputeName = TswrenKeys["backend"]["values"][number];

/** A storage backend name: a value of the `tswren.storage` enum. */
export type StorageName = TswrenKeys["storage"]["values"][number];

/** The section a compute backend reads: the one of its name. */
export type ComputeSectionOf<N extends ComputeName> = N & SectionName;

/** The section a storage backend reads: `localhost_storage` for `localhost`, else the one of its name. */
export type StorageSectionOf<N extends StorageName> = N extends "localhost" ? "localhost_storage" : N & SectionName;

type Assert<T extends true> = T;
/** Compiles only while every `tswren.backend` value has a section of its name. */
export type ComputeNamesAreSections = Assert<[ComputeName] extends [SectionName] ? true : false>;
/** Compiles only while every non-localhost `tswren.storage` value has a section of its name. */
export type StorageNamesAreSections = Assert<[Exclude<StorageName, "localhost">] extends [SectionName] ? true : false>;

/** The loaded section of a compute backend, by backend name. */
export type ComputeConfig<N extends ComputeName> = ConfigSection<ComputeSectionOf<N>>;

/** The loaded section of a storage backend, by backend name. */
export type StorageConfig<N extends StorageName> = ConfigSection<StorageSectionOf<N>>;

/** The section name a compute backend reads. */
export function computeSectionName<N extends ComputeName>(name: N): ComputeSectionOf<N> {
  return name;
}

/** The section name a storage backend reads. */
export function storageSectionName<N extends StorageName>(name: N): StorageSectionOf<N> {
  return (name === "localhost" ? "localhost_storage" : name) as StorageSectionOf<N>;
}

/** Sections a loaded config holds, by name (the selected ones are always present). */
function loadedSection(config: TswrenConfig, section: SectionName): unknown {
  const found: unknown = config[section];
  if (found === undefined) {
    // The loader puts every selected section in; only a hand-built config lacks one.
    throw new TswrenError(ErrorCodes.CONFIG_BAD_VALUE, `config section \`${section}\` is not loaded; load the config with loadConfig(), which adds every selected section`);
  }
  return found;
}

/**
 * The section the selected compute backend reads, typed by that backend's name.
 * @param config - a loaded config
 * @param name - the backend (usually `config.tswren.backend`)
 */
export function computeSection<N extends ComputeName>(config: TswrenConfig, name: N): ComputeConfig<N> {
  return loadedSection(config, computeSectionName(name)) as ComputeConfig<N>;
}

/**
 * The section the selected storage backend reads, typed by that backend's name.
 * @param config - a loaded config
 * @param name - the backend (usually `config.tswren.storage`)
 */
export function storageSection<N extends StorageName>(config: TswrenConfig, name: N): StorageConfig<N> {
  return loadedSection(config, storageSectionName(name)) as StorageConfig<N>;
}

type OptionKeys<N extends ComputeName> = { readonly [O in keyof BackendOptions]-?: keyof ComputeConfig<N> & string };

/**
 * The key of each compute backend's section that each of {@link BackendOptions} sets; keyed by
 * the `tswren.backend` enum, so a new backend without its row does not compile.
 */
export const BACKEND_OPTION_KEYS: { readonly [N in ComputeName]: OptionKeys<N> } = {
  localhost: { runtimeMemory: "runtime_memory", timeout: "runtime_timeout", workers: "worker_processes" },
  openwhisk: { runtimeMemory: "runtime_memory", timeout: "runtime_timeout", workers: "max_workers" },
  ibm_cf: { runtimeMemory: "runtime_memory", timeout: "runtime_timeout", workers: "max_workers" },
  knative: { runtimeMemory: "runtime_memory", timeout: "runtime_timeout", workers: "max_workers" },
  aws_lambda: { runtimeMemory: "runtime_memory", timeout: "runtime_timeout", workers: "max_workers" },
  docker: { runtimeMemory: "runtime_memory", timeout: "runtime_timeout", workers: "max_workers" },
};

/**
 * Executor options as keys of the selected backend's section, e.g. `{ max_workers: 8 }`;
 * options left unset are left out.
 * @param name - the selected compute backend (after every config source merged)
 * @param options - the executor's backend options
 */
export function backendOptionKeys(name: ComputeName, options: BackendOptions): Record<string, number> {
  const keys: OptionKeys<ComputeName> = BACKEND_OPTION_KEYS[name];
  const out: Record<string, number> = {};
  for (const option of ["runtimeMemory", "timeout", "workers"] as const) {
    const value = options[option];
    if (value !== undefined) out[keys[option]] = value;
  }
  return out;
}
