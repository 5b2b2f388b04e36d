/** Options of `functionExecutor()`, validated at the boundary and mapped onto config sections. */
import { closestName } from "./config/suggest.js";
import type { ConfigSources } from "./config/types.js";
import { ErrorCodes, TswrenError } from "./errors.js";

/** Options of an executor; they override the config file and the `config` object. */
export interface ExecutorOptions {
  /** Compute backend: `localhost` (default), `openwhisk`, `ibm_cf`, `knative`. */
  backend?: string;
  /** Storage backend: `localhost` (default), `s3`, `ibm_cos`, `minio`. */
  storage?: string;
  /** Config object, nested like the YAML file (`{ tswren: {...}, localhost: {...} }`). */
  config?: Record<string, unknown>;
  /** Memory limit per worker, MB. */
  runtimeMemory?: number;
  /** Seconds a call may run. */
  timeout?: number;
  /** Re-run failed calls this many times. */
  retries?: number;
  /** Number of workers (localhost processes) / max concurrent calls. */
  workers?: number;
  /** Bucket for job data. */
  storageBucket?: string;
  /** Key prefix for job data. */
  storagePrefix?: string;
  /** Delete this executor's job data on close. */
  dataCleaner?: boolean;
  /** How the client learns about finished calls: `storage` or `rabbitmq`. */
  monitoring?: string;
}

const NAMES = ["backend", "storage", "config", "runtimeMemory", "timeout", "retries", "workers", "storageBucket", "storagePrefix", "dataCleaner", "monitoring"];

/** @throws TswrenError `TSWREN_BAD_OPTION` for an unknown option or a non-object `config` */
export function validateExecutorOptions(options: unknown): asserts options is ExecutorOptions {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new TswrenError(ErrorCodes.BAD_OPTION, `functionExecutor: options must be an object like { backend: "localhost" }`);
  }
  for (const key of Object.keys(options)) {
    if (!NAMES.includes(key)) {
      const guess = closestName(key, NAMES);
      throw new TswrenError(ErrorCodes.BAD_OPTION, `functionExecutor: option \`${key}\` is not known${guess ? `; did you mean \`${guess}\`?` : ""} (known: ${NAMES.join(", ")})`);
    }
  }
  const config = (options as { config?: unknown }).config;
  if (config !== undefined && (typeof config !== "object" || config === null || Array.isArray(config))) {
    throw new TswrenError(ErrorCodes.BAD_OPTION, "functionExecutor: option `config` must be an object nested like the config file, e.g. { tswren: { retries: 2 } }");
  }
}

/**
 * Map executor options onto config sources: `{ section: { key: value } }` overrides of the
 * `tswren` section, and the options of whichever compute backend is selected once every source
 * merged (`runtimeMemory`, `timeout`, `workers`).
 */
export function executorSources(o: ExecutorOptions): Pick<ConfigSources, "overrides" | "backendOptions"> {
  return {
    overrides: {
      tswren: {
        backend: o.backend,
        storage: o.storage,
        retries: o.retries,
        storage_bucket: o.storageBucket,
        storage_prefix: o.storagePrefix,
        data_cleaner: o.dataCleaner,
        monitoring: o.monitoring,
      },
    },
    backendOptions: {
      ...(o.runtimeMemory !== undefined ? { runtimeMemory: o.runtimeMemory } : {}),
      ...(o.timeout !== undefined ? { timeout: o.timeout } : {}),
      ...(o.workers !== undefined ? { workers: o.workers } : {}),
    },
  };
}
