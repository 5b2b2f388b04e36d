/**
 * Shapes shared by the OpenWhisk emulator's modules: its options, the entities it stores (packages,
 * actions, activations) in OpenWhisk's REST JSON form, its counters and its fault table.
 */

/** A `{key, value}` pair, OpenWhisk's form for parameters and annotations. */
export interface KeyValue {
  key: string;
  value: unknown;
  /** Parameters only: passed in `/init`'s `env` instead of each run's `value`. */
  init?: boolean;
}

/** An action's limits as stored and returned (`timeout` in ms, `memory` in MB, `logs` in MB). */
export interface ActionLimits {
  timeout: number;
  memory: number;
  logs: number;
  concurrency: number;
}

/** An action document as the REST API returns it (`exec.code` omitted in lists). */
export interface ActionDoc {
  /** `ns` or `ns/pkg`. */
  namespace: string;
  name: string;
  /** Semantic version, `0.0.1` on create, patch bumped on each update. */
  version: string;
  exec: { kind: string; code?: string; binary: boolean; main?: string };
  annotations: KeyValue[];
  parameters: KeyValue[];
  limits: ActionLimits;
  publish: boolean;
  /** Epoch ms of the last create or update. */
  updated: number;
}

/** A package document as the REST API returns it. */
export interface PackageDoc {
  namespace: string;
  name: string;
  version: string;
  publish: boolean;
  binding: Record<string, never>;
  parameters: KeyValue[];
  annotations: KeyValue[];
  /** Filled on GET: the actions inside, by name and version. */
  actions?: { name: string; version: string; annotations: KeyValue[] }[];
  updated: number;
}

/** OpenWhisk's four activation outcomes (statusCode 0..3). */
export type ActivationStatus = "success" | "application error" | "action developer error" | "whisk internal error";

/** The `response` part of an activation record. */
export interface ActivationResponse {
  status: ActivationStatus;
  statusCode: number;
  success: boolean;
  result: Record<string, unknown>;
  /** Bytes of the serialized result. */
  size?: number;
}

/** A finished activation, as `GET activations/{id}` returns it. */
export interface ActivationRecord {
  activationId: string;
  namespace: string;
  /** Action name without its package (OpenWhisk's form); the `path` annotation has the full name. */
  name: string;
  version: string;
  subject: string;
  publish: boolean;
  /** Epoch ms at which the activation got its container. */
  start: number;
  end: number;
  duration: number;
  statusCode: number;
  response: ActivationResponse;
  /** `<ISO time> stdout|stderr: <line>` lines, end-of-activation markers removed. */
  logs: string[];
  annotations: KeyValue[];
}

/**
 * The fault table (STYLE 8): what the emulator does to invoke requests (`POST actions/...`).
 * `sequence` is consumed first, one entry per invoke request; after it the rates apply, drawn
 * from a PRNG seeded with `seed`, so a run is deterministic for a given order of requests.
 */
export interface OpenWhiskFaults {
  /** Probability of answering an invoke with a 429 (the concurrency message, at the limit). */
  random429Rate?: number;
  /** Probability of destroying the socket of an invoke before accepting it (nothing runs). */
  dropConnectionRate?: number;
  /** Probability of accepting and running an invoke but destroying its socket before answering. */
  dropAfterAcceptRate?: number;
  /** Probability of accepting an activation (202 with an id) that never runs and never reports. */
  neverFinishRate?: number;
  /** One fault per invoke request, in order, before the rates apply. */
  sequence?: readonly OpenWhiskFaultKind[];
  /** PRNG seed for the rates (default 1). */
  seed?: number;
}

/** One injected fault, or `"none"` for a request served normally. */
export type OpenWhiskFaultKind = "none" | "429" | "drop" | "drop-after-accept" | "never-finish";

/** Live counters; the object is updated in place while the emulator runs. */
export interface OpenWhiskEmulatorStats {
  /** Every HTTP request received. */
  requests: number;
  /** Invokes accepted (an activation id was created). */
  invocations: number;
  /** 429s for the per-minute limit. */
  throttledPerMinute: number;
  /** 429s for the concurrent-activations limit. */
  throttledConcurrent: number;
  /** 413s for invoke payloads or action code. */
  payloadTooLarge: number;
  /** 401s. */
  unauthorized: number;
  /** Activation records written. */
  activationsCompleted: number;
  /** Activations accepted and not yet finished (the concurrency limit counts these). */
  inFlight: number;
  /** Container processes started (cold starts). */
  containersStarted: number;
  /** Activations served by a warm container. */
  warmStarts: number;
  /** Containers killed: developer error, timeout, eviction, idleness or stop. */
  containersKilled: number;
  /** Container processes alive now. */
  containersAlive: number;
  /** Faults injected, by kind. */
  faults: { "429": number; drop: number; "drop-after-accept": number; "never-finish": number };
}

/** Options of {@link startOpenWhiskEmulator}; every field has a default. */
export interface OpenWhiskEmulatorOptions {
  /** The key's namespace (default `guest`). */
  namespace?: string;
  /** `uuid:key`; generated per run by default. */
  apiKey?: string;
  /** Also accept `Authorization: Bearer <token>` (IBM IAM style) when set. */
  bearerToken?: string;
  /** Action proxy run as `node <proxyPath>` (default `kernel-lib/dist/runtime/action-proxy.mjs`). */
  proxyPath?: string;
  /** Extra environment for containers (they get only PATH, HOME, PORT and `__OW_API_HOST` otherwise). */
  containerEnv?: Record<string, string>;
  /** Concurrent activations per namespace (default 100). */
  concurrentLimit?: number;
  /** Invokes per rolling minute (default 120, Apache's). */
  invocationsPerMinute?: number;
  /** Container processes alive at once (default `concurrentLimit`); activations queue beyond it. */
  maxContainers?: number;
  /** Invoke payload limit in bytes (default 1 MiB). */
  maxPayloadBytes?: number;
  /** Action result limit in bytes (default 1 MiB). */
  maxResultBytes?: number;
  /** Action code limit in bytes of the `exec.code` string (default 48 MiB). */
  maxCodeBytes?: number;
  /** How long a blocking invoke waits before answering 202 (default 60 000 ms). */
  blockingTimeoutMs?: number;
  /** Idle time after which a warm container is killed (default 60 000 ms). */
  idleContainerMs?: number;
  /** How long to wait for a container's end-of-activation markers (default 2 000 ms). */
  logMarkerWaitMs?: number;
  /** Bounds for `limits` (defaults: Apache's, memory 128..2048 so IBM sizes deploy too). */
  limitBounds?: Partial<LimitBounds>;
  /** Initial fault table. */
  faults?: OpenWhiskFaults;
}

/** Allowed ranges for action limits. */
export interface LimitBounds {
  minTimeoutMs: number;
  maxTimeoutMs: number;
  minMemoryMb: number;
  maxMemoryMb: number;
  maxConcurrency: number;
}

/** A running emulator. */
export interface OpenWhiskEmulator {
  /** `http://127.0.0.1:<port>`: pass as the client's `apihost`. */
  apihost: string;
  /** `uuid:key`: pass as the client's `api_key`. */
  apiKey: string;
  namespace: string;
  /** Live counters. */
  stats: OpenWhiskEmulatorStats;
  /** Replace the fault table (the PRNG restarts from its seed). */
  setFaults(faults: OpenWhiskFaults): void;
  /** Kill every container and close the server. Safe to call more than once. */
  stop(): Promise<void>;
}
