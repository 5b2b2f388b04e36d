/**
 * The types of a loaded configuration, derived from {@link CONFIG_SCHEMA} so that the schema is
 * the one place keys are declared.
 */
import type { CONFIG_SCHEMA, SectionName } from "./schema.js";

type Schema = typeof CONFIG_SCHEMA;

/** The TypeScript type of a key's value, from its spec. */
type ValueOf<K> = K extends { readonly type: "enum"; readonly values: readonly (infer V)[] }
  ? V
  : K extends { readonly type: "bool" }
    ? boolean
    : K extends { readonly type: "int" | "number" }
      ? number
      : K extends { readonly type: "number_list" }
        ? number[]
        : string;

/** True for keys that always have a value once loaded: defaulted or required. */
type AlwaysSet<K> = K extends { readonly default: unknown }
  ? true
  : K extends { readonly required: true }
    ? true
    : false;

type Keys<S extends SectionName> = Schema[S]["keys"];

type SetKeys<S extends SectionName> = {
  [N in keyof Keys<S> as AlwaysSet<Keys<S>[N]> extends true ? N : never]: ValueOf<Keys<S>[N]>;
};

type OptionalKeys<S extends SectionName> = {
  [N in keyof Keys<S> as AlwaysSet<Keys<S>[N]> extends true ? never : N]?: ValueOf<Keys<S>[N]>;
};

type Flatten<T> = { [K in keyof T]: T[K] };

/**
 * One loaded config section: defaulted and required keys are always present, the others are
 * present when some source set them. Keys are snake_case as in the config file.
 */
export type ConfigSection<S extends SectionName> = Flatten<SetKeys<S> & OptionalKeys<S>>;

/**
 * A loaded, validated configuration. `tswren`, `localhost` and `localhost_storage` are always
 * present; each other section is present exactly when `tswren.backend`, `tswren.storage` or
 * `tswren.monitoring` selects it, with its defaults applied and its required keys set.
 */
export interface TswrenConfig {
  /** Backend and storage choice, bucket, retries and timeouts. */
  tswren: ConfigSection<"tswren">;
  /** Local worker processes. */
  localhost: ConfigSection<"localhost">;
  /** Local directory storage; `storage_root` is an absolute path. */
  localhost_storage: ConfigSection<"localhost_storage">;
  /** Present when `tswren.backend` is `openwhisk`. */
  openwhisk?: ConfigSection<"openwhisk">;
  /** Present when `tswren.backend` is `ibm_cf`. */
  ibm_cf?: ConfigSection<"ibm_cf">;
  /** Present when `tswren.backend` is `knative`. */
  knative?: ConfigSection<"knative">;
  /** Present when `tswren.backend` is `aws_lambda`. */
  aws_lambda?: ConfigSection<"aws_lambda">;
  /** Present when `tswren.backend` is `docker`. */
  docker?: ConfigSection<"docker">;
  /** Present when `tswren.storage` is `s3`. */
  s3?: ConfigSection<"s3">;
  /** Present when `tswren.storage` is `ibm_cos`. */
  ibm_cos?: ConfigSection<"ibm_cos">;
  /** Present when `tswren.storage` is `minio`. */
  minio?: ConfigSection<"minio">;
  /** Present when `tswren.monitoring` is `rabbitmq`. */
  rabbitmq?: ConfigSection<"rabbitmq">;
}

/** Compile-time check: {@link TswrenConfig} has exactly the schema's sections. */
type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false;
type Assert<T extends true> = T;
/** Compiles only while {@link TswrenConfig} and the schema list the same sections. */
export type SectionsMatchSchema = Assert<SameKeys<TswrenConfig, Schema>>;

/** The executor options that set keys of the selected compute backend's section. */
export interface BackendOptions {
  /** `runtimeMemory`: memory of each call, MB. */
  runtimeMemory?: number;
  /** `timeout`: seconds a call may run. */
  timeout?: number;
  /** `workers`: calls at once (worker processes on localhost). */
  workers?: number;
}

/**
 * Where configuration comes from; every field is optional and defaults to the real process.
 * Later sources win: file, then `TSWREN_CONFIG`, then `config`, then `overrides`.
 */
export interface ConfigSources {
  /** Environment holding `TSWREN_CONFIG_FILE` and `TSWREN_CONFIG`; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Directory searched for `.tswren_config` and against which relative paths resolve; default `process.cwd()`. */
  cwd?: string;
  /** Home directory for `~/.tswren/config` and `~` expansion; default `os.homedir()`. */
  home?: string;
  /** The executor's `config` object, nested like the file. */
  config?: Record<string, unknown>;
  /** Executor options already mapped to `{ section: { key: value } }`; `undefined` values are ignored. */
  overrides?: Record<string, Record<string, unknown>>;
  /**
   * Executor options for whichever compute backend is selected once every source merged
   * (`runtimeMemory`, `timeout`, `workers`); they win over every source.
   */
  backendOptions?: BackendOptions;
}
