/**
 * The one table of compute backends, loaded lazily so a platform's client library is imported
 * only when its backend is chosen.
 */
import { ErrorCodes, TswrenError } from "../errors.js";
import type { ComputeBackend } from "./backend.js";

type Factory = (config: Record<string, unknown>) => Promise<ComputeBackend>;

const COMPUTE_BACKENDS: Record<string, Factory> = {
  localhost: async (config) => {
    const { LocalhostCompute } = await import("./localhost/index.js");
    const workers = config["worker_processes"];
    return new LocalhostCompute(typeof workers === "number" ? { worker_processes: workers } : {});
  },
};

/** Names of the compute backends this build knows. */
export function computeBackendNames(): string[] {
  return Object.keys(COMPUTE_BACKENDS);
}

/**
 * Create a compute backend by name from its config section.
 * @throws TswrenError `TSWREN_UNKNOWN_BACKEND` naming the known ones
 */
export async function createComputeBackend(name: string, config: Record<string, unknown>): Promise<ComputeBackend> {
  const factory = COMPUTE_BACKENDS[name];
  if (factory === undefined) {
    throw new TswrenError(
      ErrorCodes.UNKNOWN_BACKEND,
      `compute backend "${name}" is not available in this tswren build yet; known: ${computeBackendNames().join(", ")}`,
    );
  }
  return factory(config);
}
