/**
 * The emulator's options with their defaults applied, and the state its routes share.
 */
import { randomBytes, randomUUID } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ActionStore } from "./action-store.js";
import type { ActivationStore } from "./activations.js";
import type { ContainerPool } from "./container-pool.js";
import type { FaultInjector } from "./faults.js";
import type { InvokerContext } from "./invoker.js";
import { DEFAULTS, type MinuteWindow } from "./limits.js";
import type { LimitBounds, OpenWhiskEmulatorOptions, OpenWhiskEmulatorStats } from "./types.js";

/** The project's action proxy, built by `npm run build`. */
export const DEFAULT_PROXY_PATH = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  "../../../kernel-lib/dist/runtime/action-proxy.mjs",
);

/** Options with every default applied. */
export interface ResolvedOptions {
  namespace: string;
  apiKey: string;
  bearerToken: string | undefined;
  proxyPath: string;
  containerEnv: Record<string, string>;
  concurrentLimit: number;
  invocationsPerMinute: number;
  maxContainers: number;
  maxPayloadBytes: number;
  maxResultBytes: number;
  maxCodeBytes: number;
  blockingTimeoutMs: number;
  idleContainerMs: number;
  logMarkerWaitMs: number;
  limitBounds: LimitBounds;
}

/** What the routes share. */
export interface EmulatorState {
  options: ResolvedOptions;
  store: ActionStore;
  activations: ActivationStore;
  pool: ContainerPool;
  faults: FaultInjector;
  minute: MinuteWindow;
  stats: OpenWhiskEmulatorStats;
  invoker: InvokerContext;
  /** Activations being run, awaited by `stop()`. */
  running: Set<Promise<unknown>>;
  /** Timers that release never-finishing activations' slots, cleared by `stop()`. */
  timers: Set<NodeJS.Timeout>;
}

/**
 * Apply defaults and check the options.
 * @param options - what the caller gave
 * @returns complete options
 * @throws RangeError for a limit that is not a positive number
 */
export function resolveOptions(options: OpenWhiskEmulatorOptions): ResolvedOptions {
  const concurrentLimit = positive("concurrentLimit", options.concurrentLimit ?? DEFAULTS.concurrentLimit);
  return {
    namespace: options.namespace ?? DEFAULTS.namespace,
    apiKey: options.apiKey ?? `${randomUUID()}:${randomBytes(32).toString("hex")}`,
    bearerToken: options.bearerToken,
    proxyPath: options.proxyPath ?? DEFAULT_PROXY_PATH,
    containerEnv: options.containerEnv ?? {},
    concurrentLimit,
    invocationsPerMinute: positive("invocationsPerMinute", options.invocationsPerMinute ?? DEFAULTS.invocationsPerMinute),
    maxContainers: positive("maxContainers", options.maxContainers ?? concurrentLimit),
    maxPayloadBytes: positive("maxPayloadBytes", options.maxPayloadBytes ?? DEFAULTS.maxPayloadBytes),
    maxResultBytes: positive("maxResultBytes", options.maxResultBytes ?? DEFAULTS.maxResultBytes),
    maxCodeBytes: positive("maxCodeBytes", options.maxCodeBytes ?? DEFAULTS.maxCodeBytes),
    blockingTimeoutMs: positive("blockingTimeoutMs", options.blockingTimeoutMs ?? DEFAULTS.blockingTimeoutMs),
    idleContainerMs: positive("idleContainerMs", options.idleContainerMs ?? DEFAULTS.idleContainerMs),
    logMarkerWaitMs: positive("logMarkerWaitMs", options.logMarkerWaitMs ?? DEFAULTS.logMarkerWaitMs),
    limitBounds: { ...DEFAULTS.bounds, ...options.limitBounds },
  };
}

/**
 * Fresh counters, all zero.
 * @returns the stats object
 */
export function emptyStats(): OpenWhiskEmulatorStats {
  return {
    requests: 0,
    invocations: 0,
    throttledPerMinute: 0,
    throttledConcurrent: 0,
    payloadTooLarge: 0,
    unauthorized: 0,
    activationsCompleted: 0,
    inFlight: 0,
    containersStarted: 0,
    warmStarts: 0,
    containersKilled: 0,
    containersAlive: 0,
    faults: { "429": 0, drop: 0, "drop-after-accept": 0, "never-finish": 0 },
  };
}

function positive(name: string, value: number): number {
  if (typeof value !== "number" || Number.isNaN(value) || value <= 0) {
    throw new RangeError(`options.${name} must be a positive number (Infinity allowed), got ${String(value)}`);
  }
  return value;
}
