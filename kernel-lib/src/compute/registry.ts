/**
 * The one table of compute backends, loaded lazily so a platform's client library is imported
 * only when its backend is chosen.
 */
import { ErrorCodes, TswrenError } from "../errors.js";
import type { ComputeBackend } from "./backend.js";

/** Settings a backend may need from outside its own config section. */
export interface ComputeContext {
  /** `tswren.retry_sleeps` (seconds): back-off pauses when the platform throttles. */
  retrySleepsS?: readonly number[];
}

type Factory = (config: Record<string, unknown>, context: ComputeContext) => Promise<ComputeBackend>;

const COMPUTE_BACKENDS: Record<string, Factory> = {
  localhost: async (config) => {
    const { LocalhostCompute } = await import("./localhost/index.js");
    const workers = config["worker_processes"];
    return new LocalhostCompute(typeof workers === "number" ? { worker_processes: workers } : {});
  },
  openwhisk: (config, context) => whiskBackend("openwhisk", config, context),
  ibm_cf: (config, context) => whiskBackend("ibm_cf", config, context),
  docker: async (config) => {
    const { DockerCompute } = await import("./docker/index.js");
    return DockerCompute.create(config);
  },
  knative: async (config) => {
    const { KnativeCompute } = await import("./knative.js");
    return new KnativeCompute(config);
  },
};

/** An OpenWhisk-API backend; loads the `openwhisk` client on first use. */
async function whiskBackend(section: "openwhisk" | "ibm_cf", config: Record<string, unknown>, context: ComputeContext): Promise<ComputeBackend> {
  const { OpenWhiskCompute } = await import("./openwhisk/index.js");
  return new OpenWhiskCompute(config, { section, ...(context.retrySleepsS !== undefined ? { retrySleepsS: context.retrySleepsS } : {}) });
}

/** Names of the compute backends this build knows. */
export function computeBackendNames(): string[] {
  return Object.keys(COMPUTE_BACKENDS);
}

/**
 * Create a compute backend by name from its config section.
 * @param context - settings from outside the section (e.g. `tswren.retry_sleeps`)
 * @throws TswrenError `TSWREN_UNKNOWN_BACKEND` naming the known ones
 */
export async function createComputeBackend(name: string, config: Record<string, unknown>, context: ComputeContext = {}): Promise<ComputeBackend> {
  const factory = COMPUTE_BACKENDS[name];
  if (factory === undefined) {
    throw new TswrenError(
      ErrorCodes.UNKNOWN_BACKEND,
      `compute backend "${name}" is not available in this tswren build; known: ${computeBackendNames().join(", ")}`,
    );
  }
  return factory(config, context);
}
