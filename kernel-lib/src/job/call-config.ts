/**
 * The configuration an executor created inside a function gets: the configuration of the
 * executor that invoked the call (Lithops passes its config to the worker the same way), so
 * `functionExecutor()` in a function reaches the same storage and compute without a config file
 * on the worker. Secrets never travel this way: the client sends the config without its secret
 * keys, and the worker puts back the storage credentials that already travel (signed) in the
 * payload's storage reference, and the compute credentials its platform gave the runtime
 * (OpenWhisk's `__OW_API_KEY`; the runtime's own `$TSWREN_SIGNING_KEY` signs the inner calls).
 * Executors created in a call are named under it, so the invoking executor cleans their data.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { randomBytes } from "node:crypto";
import { keySpec, sectionSpec } from "../config/schema.js";
import { ErrorCodes, TswrenError } from "../errors.js";
import type { TswrenConfig } from "../config/types.js";
import type { StorageRef } from "../protocol.js";


/**
 * A copy of a loaded configuration without any secret key (nor a key the schema does not know),
 * for an invocation payload.
 * @param config - the invoking executor's configuration
 */
export function shareableConfig(config: TswrenConfig): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [name, section] of Object.entries(config) as Array<[string, Record<string, unknown> | undefined]>) {
    const spec = sectionSpec(name);
    if (section === undefined || spec === undefined) continue;
    const copy: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(section)) {
      const ks = keySpec(spec, key);
      if (ks !== undefined && ks.secret !== true && value !== undefined) copy[key] = value;
    }
    out[name] = copy;
  }
  return out;
}

function storageSection(backend: string): string {
  return backend === "localhost" ? "localhost_storage" : backend;
}

/** The call running now: who invoked it, and the configuration executors created in it get. */
interface CallScope {
  config: Record<string, unknown>;
  /** `<executorId>-<jobId>-<callId>-<4 random hex>`: executors created in the call are named under it. */
  idBase: string;
  /** Executors created in the call so far. */
  created: number;
}

const current = new AsyncLocalStorage<CallScope>();

/** Longest id of an executor created inside a call that is still named under the invoking call. */
const MAX_INNER_ID_CHARS = 100;

/**
 * Compute credentials a runtime was given by its platform, for executors created in a call on the
 * same platform: OpenWhisk passes the activation's own key as `__OW_API_KEY`. (The signing key is
 * the runtime's `$TSWREN_SIGNING_KEY`, which executors read from the environment; AWS credentials
 * come from the runtime's environment through the SDK's default chain.) Nothing of it is stored.
 */
function runtimeCredentials(shared: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const backend = (shared["tswren"] as { backend?: unknown } | undefined)?.backend;
  const owKey = env["__OW_API_KEY"];
  if ((backend === "openwhisk" || backend === "ibm_cf") && owKey !== undefined && owKey !== "") {
    const section = (shared[backend] ?? {}) as Record<string, unknown>;
    return { [backend]: { ...section, api_key: owKey } };
  }
  return {};
}

/**
 * Run `fn` with the configuration executors created inside it default to.
 * @param shared - the invoking executor's {@link shareableConfig}
 * @param storage - the payload's storage reference (its section's keys, credentials included)
 * @param call - the ids of the call (executors created in it are named under them)
 */
export function runWithCallConfig<T>(shared: Record<string, unknown>, storage: StorageRef, fn: () => T, call?: { executorId: string; jobId: string; callId: string }): T {
  const section = storageSection(storage.backend);
  const own = (shared[section] ?? {}) as Record<string, unknown>;
  const config = { ...shared, ...runtimeCredentials(shared, process.env), [section]: { ...own, ...storage.config } };
  const idBase = call === undefined ? "" : `${call.executorId}-${call.jobId}-${call.callId}-${randomBytes(2).toString("hex")}`;
  return current.run({ config, idBase, created: 0 }, fn);
}

/** True while a call runs (inside a worker, in the call's async context). */
export function insideCall(): boolean {
  return current.getStore() !== undefined;
}

/** The configuration of the call running now (inside a worker), else undefined. */
export function callConfig(): Record<string, unknown> | undefined {
  return current.getStore()?.config;
}

/** Backends executors created in calls cannot use on this runtime, and why (see {@link refuseInnerBackend}). */
const refusedBackends = new Map<string, string>();

/**
 * Declare, in a runtime's entry point, that executors created in its calls cannot use a compute
 * backend (the docker runtime: its containers have no access to the Docker engine).
 * @param backend - a `tswren.backend` value
 * @param why - the reason, for the error message
 */
export function refuseInnerBackend(backend: string, why: string): void {
  refusedBackends.set(backend, why);
}

/**
 * The id of an executor created in the call running now, named under that call
 * (`<executorId>-<jobId>-<callId>-<4 hex>-<n>`), so the invoking executor's `clean()` (and its
 * data cleaner) removes its keys too; undefined outside a call, or when nesting made the name
 * too long (such an executor gets a fresh id; `tswren clean` removes its keys).
 * @param backend - the new executor's compute backend
 * @throws TswrenError `TSWREN_BAD_INPUT` inside a call, for a backend this runtime refuses
 */
export function innerExecutorId(backend: string): string | undefined {
  const scope = current.getStore();
  if (scope === undefined) return undefined;
  const refused = refusedBackends.get(backend);
  if (refused !== undefined) {
    throw new TswrenError(
      ErrorCodes.BAD_INPUT,
      `an executor created inside a function cannot use the ${backend} backend: ${refused}; return plain values, or run the outer job on a backend whose functions can create executors (localhost, openwhisk, knative, aws_lambda)`,
    );
  }
  if (scope.idBase === "") return undefined;
  const id = `${scope.idBase}-${scope.created++}`;
  return id.length <= MAX_INNER_ID_CHARS ? id : undefined;
}
