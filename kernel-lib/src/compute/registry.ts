/**
 * The one table of compute backends, loaded lazily so a platform's client library is imported
 * only when its backend is chosen. Each entry takes the typed config section its backend reads
 * (see `config/sections.ts`); the table is keyed by the `tswren.backend` enum, so a backend
 * added to the schema without an entry here (or the reverse) does not compile.
 */
import { computeSection } from "../config/sections.js";
import type { ComputeConfig, ComputeName } from "../config/sections.js";
import type { TswrenConfig } from "../config/types.js";
import { ErrorCodes, TswrenError } from "../errors.js";
import type { ComputeBackend } from "./backend.js";

/** Settings a backend may need from outside its own config section. */
export interface ComputeContext {
  /** `tswren.retry_sleeps` (seconds): back-off pauses when the platform throttles. */
  retrySleepsS?: readonly number[];
}

/** Creates one backend from its typed section. */
export type ComputeFactory<N extends ComputeName> = (config: ComputeConfig<N>, context: ComputeContext) => Promise<ComputeBackend>;

const COMPUTE_BACKENDS: { readonly [N in ComputeName]: ComputeFactory<N> } = {
  localhost: async (config) => {
    const { LocalhostCompute } = await import("./localhost/index.js");
    return new LocalhostCompute(config);
  },
  openwhisk: async (config, context) => {
    const { OpenWhiskCompute } = await import("./openwhisk/index.js");
    return new OpenWhiskCompute({ section: "openwhisk", config }, context);
  },
  ibm_cf: async (config, context) => {
    const { OpenWhiskCompute } = await import("./openwhisk/index.js");
    return new OpenWhiskCompute({ section: "ibm_cf", config }, context);
  },
  docker: async (config) => {
    const { DockerCompute } = await import("./docker/index.js");
    return DockerCompute.create(config);
  },
  knative: async (config) => {
    const { KnativeCompute } = await import("./knative.js");
    return new KnativeCompute(config);
  },
  aws_lambda: async (config, context) => {
    const { AwsLambdaCompute } = await import("./aws-lambda/index.js");
    return new AwsLambdaCompute(config, context);
  },
};

/** Names of the compute backends this build knows (the `tswren.backend` values). */
export function computeBackendNames(): ComputeName[] {
  return Object.keys(COMPUTE_BACKENDS) as ComputeName[];
}

/**
 * Create a compute backend by name from its typed config section.
 * @param name - a `tswren.backend` value
 * @param config - the section the backend reads
 * @param context - settings from outside the section (e.g. `tswren.retry_sleeps`)
 * @throws TswrenError `TSWREN_UNKNOWN_BACKEND` naming the known ones (a name from outside the type system)
 */
export async function createComputeBackend<N extends ComputeName>(name: N, config: ComputeConfig<N>, context: ComputeContext = {}): Promise<ComputeBackend> {
  if (!Object.hasOwn(COMPUTE_BACKENDS, name)) {
    throw new TswrenError(
      ErrorCodes.UNKNOWN_BACKEND,
      `compute backend "${name}" is not available in this tswren build; known: ${computeBackendNames().join(", ")}`,
    );
  }
  const factory: ComputeFactory<N> = COMPUTE_BACKENDS[name];
  return factory(config, context);
}

/**
 * Create the compute backend a loaded config selects (`tswren.backend`), from its section.
 * @throws TswrenError `TSWREN_UNKNOWN_BACKEND`, and the backend's own errors
 */
export function createSelectedCompute(config: TswrenConfig, context: ComputeContext = {}): Promise<ComputeBackend> {
  return createFor(config.tswren.backend, config, context);
}

// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- N ties the table entry to its section type
function createFor<N extends ComputeName>(name: N, config: TswrenConfig, context: ComputeContext): Promise<ComputeBackend> {
  return createComputeBackend(name, computeSection(config, name), context);
}
