/**
 * The compute plug-point: one interface every backend implements (localhost worker pool,
 * OpenWhisk, Knative). `invoke` only hands calls to the platform; completion is observed through
 * storage (status keys) or, for backends that declare `directChannel`, through `onEvent`.
 */
import type { CallStatus, InvocationPayload, StorageRef } from "../protocol.js";

/** What a compute backend can do beyond `invoke` (declared, never probed). */
export interface ComputeCapabilities {
  /** Worker events arrive through `onEvent` without storage polling. */
  directChannel: boolean;
  /**
   * The backend itself ends every call it accepted (it kills calls at their timeout and reports
   * crashed workers), so the client needs no lost-call watchdog.
   */
  reportsEveryCall: boolean;
  /** One invocation can fan out a whole job from inside the platform. */
  remoteInvoker: boolean;
}

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

/** One compute platform. Implementations live one per module, registered in `registry.ts`. */
export interface ComputeBackend {
  /** Backend name as used in config, e.g. `localhost`. */
  readonly name: string;
  readonly capabilities: ComputeCapabilities;
  /** How many calls one invocation may carry (default 1). */
  readonly callsPerInvocation?: number;
  /** Hand one invocation (one or more calls) to the platform; resolves once it is accepted. */
  invoke(payload: InvocationPayload): Promise<InvokeReceipt>;
  /**
   * Only with `capabilities.remoteInvoker`: one invocation holding the whole job, fanned out
   * from inside the platform in activations of `callsPerActivation` calls.
   */
  invokeRemote?(payload: InvocationPayload, callsPerActivation: number, staged?: StagedPayload): Promise<InvokeReceipt>;
  /** The backend's config asks for the remote invoker by default (e.g. `openwhisk.remote_invoker`). */
  readonly remoteInvokerByDefault?: boolean;
  /** Subscribe to worker events (only when `capabilities.directChannel`); returns unsubscribe. */
  onEvent?(listener: (event: ComputeEvent) => void): () => void;
  /** Drop calls of this executor that have not started yet (best effort); returns how many. */
  cancelPending?(executorId: string, jobId?: string): number;
  /** Stop calls of this executor that are running now (best effort); returns how many. */
  cancelRunning?(executorId: string, jobId?: string): number;
  /** One line for people: what this backend runs on. */
  describe(): string;
  /** Release workers, connections and timers. */
  close(): Promise<void>;
}
