/**
 * The configuration an executor created inside a function gets: the configuration of the
 * executor that invoked the call (Lithops passes its config to the worker the same way), so
 * `functionExecutor()` in a function reaches the same storage and compute without a config file
 * on the worker. Secrets never travel this way: the client sends the config without its secret
 * keys, and the worker puts back the storage credentials that already travel (signed) in the
 * payload's storage reference.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { keySpec, sectionSpec } from "../config/schema.js";
import type { TswrenConfig } from "../config/types.js";
import type { StorageRef } from "../protocol.js";

const current = new AsyncLocalStorage<Record<string, unknown>>();

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

/**
 * Run `fn` with the configuration executors created inside it default to.
 * @param shared - the invoking executor's {@link shareableConfig}
 * @param storage - the payload's storage reference (its section's keys, credentials included)
 */
export function runWithCallConfig<T>(shared: Record<string, unknown>, storage: StorageRef, fn: () => T): T {
  const section = storageSection(storage.backend);
  const own = (shared[section] ?? {}) as Record<string, unknown>;
  return current.run({ ...shared, [section]: { ...own, ...storage.config } }, fn);
}

/** The configuration of the call running now (inside a worker), else undefined. */
export function callConfig(): Record<string, unknown> | undefined {
  return current.getStore();
}
