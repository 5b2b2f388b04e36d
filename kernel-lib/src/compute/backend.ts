/**
 * The compute plug-point: one interface every backend implements (localhost worker pool,
 * OpenWhisk, Knative). `invoke` only hands calls to the platform; completion is observed through
 * storage (status keys) or, for backends that declare the `events` capability, through it.
 * What a backend can do beyond `invoke` is a typed capability object: present means supported.
 */
import type { CallStatus, InvocationPayload, StorageRef } from "../protocol.js";

/** An event from the workers, delivered on the direct channel. */
export type ComputeEvent =
  | { type: "start"; executorId: string; jobId: string; callId: string; attempt: number; workerStartMs: number }
  /**
   * A call ended. `byPlatform`: the backend itself ended it (killed at its timeout, its worker
   * died, the service refused it): no worker could report it, so monitors that do not listen to
   * the direct channel still take these.
   */
  | { type: "status"; status: CallStatus; byPlatform?: boolean };

/**
 * Where a large job's JSON-encoded payload was stored while the job was created, so that a
 * remote-invoke request references it instead of carrying it (its size then does not grow).
 */
export interface StagedPayload {
  /** Where it is (without credentials: `config` is empty). */
  storage: StorageRef;
  key: string;
  /** SHA-256 (hex) of the staged text; the remote invoker refuses other bytes. */
  sha256: string;
}

/** Receipt of an accepted invocation. */
export interface InvokeReceipt {
  /** Platform id of the invocation (activation id, worker pid, ...). */
  activationId: string;
}

/** Capability: worker events arrive on a direct channel, without storage polling. */
export interface EventsCapability {
  /** Subscribe to worker events; returns the unsubscribe function. */
  subscribe(listener: (event: ComputeEvent) => void): () => void;
}

/** Capability: one invocation fans out a whole job from inside the platform. */
export interface RemoteInvokeCapability {
  /** The backend's config asks for the remote invoker by default (e.g. `openwhisk.remote_invoker`). */
  readonly byDefault: boolean;
  /**
   * One invocation holding the whole job, fanned out from inside the platform in activations of
   * `callsPerActivation` calls; `staged` references the job's payload stored beforehand.
   */
  invoke(payload: InvocationPayload, callsPerActivation: number, staged?: StagedPayload): Promise<InvokeReceipt>;
}

/** Capability: stop calls of an executor (best effort). */
export interface CancelCapability {
  /** Cancel this executor's calls (of one job when `jobId` is given); returns how many. */
  cancel(executorId: string, jobId?: string): number;
}

/**
 * Capability: the backend stores the statuses it reports itself, in batches written shortly after
 * the events (localhost: no worker writes a `status.json` per call).
 */
export interface StatusRecordsCapability {
  /** Write the executor's pending status records now; resolves once they are stored. */
  flush(executorId: string): Promise<void>;
}

/** Capability: list the runtimes the backend runs calls in. */
export interface RuntimeListCapability {
  /** One line for people per runtime (or one line saying none is deployed). */
  list(): Promise<string[]>;
}

/** Capability: deploy and remove the runtime the backend runs calls in (`tswren runtime ...`). */
export interface RuntimeDeployCapability {
  /** Create or update the runtime for a memory size (default: the section's); returns one line for people. */
  deploy(memoryMb?: number): Promise<string>;
  /** Remove the runtime of a memory size (default: every size); returns one line per removed runtime. */
  remove(memoryMb?: number): Promise<string[]>;
}

/** What a compute backend can do beyond `invoke` (declared, never probed). */
export interface ComputeCapabilities {
  /**
   * The backend itself ends every call it accepted (it kills calls at their timeout and reports
   * crashed workers), so the client needs no lost-call watchdog.
   */
  readonly reportsEveryCall: boolean;
  /** Worker events on a direct channel. */
  readonly events?: EventsCapability;
  /** The remote invoker. */
  readonly remoteInvoke?: RemoteInvokeCapability;
  /** Drop calls that have not started yet. */
  readonly cancelPending?: CancelCapability;
  /** Stop calls that are running now. */
  readonly cancelRunning?: CancelCapability;
  /** Statuses stored by the backend in batches (flushed before the data cleaner runs). */
  readonly statusRecords?: StatusRecordsCapability;
  /** List the deployed runtimes (`tswren runtime list`). */
  readonly runtimeList?: RuntimeListCapability;
  /** Deploy and remove runtimes (`tswren runtime deploy|delete`). */
  readonly runtimeDeploy?: RuntimeDeployCapability;
}

/** One compute platform. Implementations live one per module, registered in `registry.ts`. */
export interface ComputeBackend {
  /** Backend name as used in config, e.g. `localhost`. */
  readonly name: string;
  /** What the backend can do beyond `invoke`. */
  readonly capabilities: ComputeCapabilities;
  /** How many calls one invocation may carry (default 1). */
  readonly callsPerInvocation?: number;
  /** Hand one invocation (one or more calls) to the platform; resolves once it is accepted. */
  invoke(payload: InvocationPayload): Promise<InvokeReceipt>;
  /** One line for people: what this backend runs on. */
  describe(): string;
  /** Release workers, connections and timers. */
  close(): Promise<void>;
}
