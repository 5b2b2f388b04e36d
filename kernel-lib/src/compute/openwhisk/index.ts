/**
 * The OpenWhisk compute backend (also IBM Cloud Functions, section `ibm_cf`): each invocation is
 * a non-blocking activation of the tswren runtime action, carrying `chunksize` calls as JSON.
 * Requests go out with bounded concurrency (`invoke_pool_threads`); 429s pause every request
 * and re-queue the refused one with back-off (`tswren.retry_sleeps`, then doubling, with jitter);
 * network failures are retried a bounded number of times; a missing action (404) is deployed
 * and the invoke retried once; refused credentials are a clear error. Completion is observed
 * through storage (start markers + `status.json`); the `events` channel only carries calls the
 * platform ended: an activation that died (killed, crashed, over its time limit, refused by the
 * runtime) fails its unreported calls within about a second, with the cause from its record
 * (`activation-watch.ts`), also when the remote invoker created it.
 */
import { ErrorCodes, TswrenError } from "../../errors.js";
import { encodePayload, PROTOCOL_VERSION } from "../../protocol.js";
import type { InvocationPayload, RemoteInvokeRequest } from "../../protocol.js";
import type { ComputeBackend, ComputeCapabilities, ComputeEvent, InvokeReceipt, StagedPayload } from "../backend.js";
import { ActivationWatch } from "./activation-watch.js";
import { UnreportedCalls } from "../unreported-calls.js";
import { whiskRuntimeCapabilities } from "./runtime-capability.js";
import { InvokeQueue } from "./invoke-queue.js";
import type { FailureDecision } from "./invoke-queue.js";
import { actionTimeLimitMs, RuntimeActions } from "./runtime-actions.js";
import { whiskSettings } from "./settings.js";
import type { WhiskConfig, WhiskSection, WhiskSettings } from "./settings.js";
import { connectWhisk } from "./whisk-client.js";
import type { WhiskConnection } from "./whisk-client.js";
import { classifyWhiskError, whiskError } from "./whisk-errors.js";
import { DeploymentKey } from "../../security/key-store.js";
import { signPayload } from "../../security/signing.js";
import { showOnly } from "../../security/opaque.js";

export { RuntimeActions } from "./runtime-actions.js";
export type { DeployedRuntime } from "./runtime-actions.js";
export { runtimeActionName, whiskSettings } from "./settings.js";
export type { WhiskConfig, WhiskSettings, WhiskSection } from "./settings.js";

/** Options of {@link OpenWhiskCompute} that do not come from its config section. */
export interface OpenWhiskComputeOptions {
  /** `tswren.retry_sleeps`: pauses (s) after consecutive 429s; beyond the list the last doubles. */
  retrySleepsS?: readonly number[];
  /** Reject the backlog when throttled with nothing accepted for this long (default max(2 × runtime_timeout, 120 s)). */
  throttleGiveUpMs?: number;
  /** Retries of an invoke after network failures or 5xx answers (default 5). */
  networkRetries?: number;
  /** First pause before such a retry, doubling each time (default 200 ms). */
  networkRetryBaseMs?: number;
  /** IBM IAM token endpoint (tests point it at a local server). */
  iamTokenUrl?: string;
  /** Largest remote-invoke request (default {@link REMOTE_INVOKE_LIMIT_BYTES}). */
  remoteInvokeLimitBytes?: number;
}

/**
 * Largest remote-invoke request sent as one activation: Apache OpenWhisk's 1 MiB payload limit
 * less 1 KiB. A larger job (many calls, large inline inputs) is invoked from the client instead.
 */
export const REMOTE_INVOKE_LIMIT_BYTES = 1023 * 1024;

/** What a queued invocation is about (for cancelPending). */
interface InvocationMeta {
  executorId: string;
  jobId: string;
  calls: number;
}

/**
 * Runs calls as activations of the tswren runtime action on Apache OpenWhisk or IBM Cloud
 * Functions.
 * @example
 * ```ts
 * const config = validateSection("openwhisk", { endpoint: "https://ow.example.com", api_key: "uuid:key" }, "example");
 * const ow = new OpenWhiskCompute({ section: "openwhisk", config });
 * await ow.invoke(payload); // resolves once the platform accepted the activation
 * ```
 */
export class OpenWhiskCompute implements ComputeBackend {
  /** `openwhisk` or `ibm_cf`. */
  readonly name: WhiskSection;
  /** Remote invoker, dropping queued activations, and the runtime actions. */
  readonly capabilities: ComputeCapabilities;
  /** Calls per activation: the section's `chunksize`. */
  readonly callsPerInvocation: number;
  /** The typed settings of the section. */
  readonly settings: WhiskSettings;
  /** The runtime actions (deploy, list, delete). */
  readonly runtime: RuntimeActions;
  private readonly conn: WhiskConnection;
  private readonly queue: InvokeQueue<InvocationMeta>;
  private readonly networkRetries: number;
  private readonly networkRetryBaseMs: number;
  private readonly remoteInvokeLimitBytes: number;
  private readonly listeners = new Set<(event: ComputeEvent) => void>();
  private readonly unreported = new UnreportedCalls();
  /** Sent activations watched until their record exists (dead ones fail their calls early). */
  readonly watch: ActivationWatch;
  /** The deployment's signing key (every invocation is signed with it). */
  readonly signing: DeploymentKey;
  private closed = false;

  /**
   * @param whisk - the loaded `openwhisk` (or `ibm_cf`) section and its name
   * @param options - `tswren.retry_sleeps` and retry tuning
   * @throws TswrenError `TSWREN_COMPUTE_CREDENTIALS` without credentials
   */
  constructor(whisk: WhiskConfig, options: OpenWhiskComputeOptions = {}) {
    showOnly(this, "OpenWhiskCompute", () => ({ backend: this.name, describe: this.describe() }));
    this.settings = whiskSettings(whisk);
    this.name = this.settings.section;
    this.callsPerInvocation = this.settings.chunksize;
    this.conn = connectWhisk(this.settings, options.iamTokenUrl !== undefined ? { iamTokenUrl: options.iamTokenUrl } : {});
    this.signing = new DeploymentKey(this.settings.section, whisk.config);
    this.runtime = new RuntimeActions(this.conn, this.settings, this.signing);
    this.networkRetries = options.networkRetries ?? 5;
    this.networkRetryBaseMs = options.networkRetryBaseMs ?? 200;
    this.remoteInvokeLimitBytes = options.remoteInvokeLimitBytes ?? REMOTE_INVOKE_LIMIT_BYTES;
    this.queue = new InvokeQueue<InvocationMeta>({
      concurrency: this.settings.invokePoolThreads,
      throttleSleepsS: options.retrySleepsS ?? [1, 5],
      giveUpMs: options.throttleGiveUpMs ?? Math.max(2 * this.settings.timeoutS * 1000, 120_000),
    });
    const runtime = whiskRuntimeCapabilities(this.runtime, this.settings);
    this.watch = new ActivationWatch({
      api: () => this.conn.api,
      unreported: (payload) => this.unreported.of(payload),
      emit: (event) => { for (const listener of this.listeners) listener(event); },
      section: this.settings.section,
      actionTimeoutMs: actionTimeLimitMs(this.settings.timeoutS),
    });
    this.capabilities = {
      reportsEveryCall: false,
      events: {
        subscribe: (listener) => {
          this.listeners.add(listener);
          return () => { this.listeners.delete(listener); };
        },
      },
      remoteInvoke: {
        byDefault: this.settings.remoteInvoker,
        invoke: (payload, callsPerActivation, staged) => this.invokeRemote(payload, callsPerActivation, staged),
      },
      cancelPending: { cancel: (executorId, jobId) => this.cancelPending(executorId, jobId) },
      runtimeList: runtime,
      runtimeDeploy: runtime,
    };
  }

  /**
   * Send one activation holding `payload.calls` (with start markers on). Resolves once the
   * platform accepted it.
   * @throws TswrenError `TSWREN_COMPUTE_CREDENTIALS` (naming the key, never its value),
   *   `TSWREN_COMPUTE_THROTTLED`, `TSWREN_COMPUTE_UNREACHABLE`, `TSWREN_COMPUTE` (e.g. 413),
   *   `TSWREN_RUNTIME_VERSION`, `TSWREN_RUNTIME_MISSING`, `TSWREN_EXECUTOR_CLOSED`
   */
  async invoke(payload: InvocationPayload): Promise<InvokeReceipt> {
    this.assertOpen();
    const action = await this.runtime.ensure(payload.memoryMb);
    const params = signPayload(JSON.stringify({ ...encodePayload(payload), startMarkers: true }), this.signing.current());
    const doing = `invoking ${action} for job ${payload.executorId}/${payload.jobId} (${payload.calls.length} calls from ${payload.calls[0]?.callId ?? "-"})`;
    const receipt = await this.send(action, params, doing, payload.memoryMb, { executorId: payload.executorId, jobId: payload.jobId, calls: payload.calls.length });
    this.watch.track(receipt.activationId, action, payload);
    return receipt;
  }

  /**
   * The remote invoker: send ONE activation holding the whole job as a {@link RemoteInvokeRequest};
   * the runtime fans out activations of `callsPerActivation` calls from inside the platform, so
   * the client's submit time does not grow with the number of calls. A request over
   * {@link REMOTE_INVOKE_LIMIT_BYTES} (by default) falls back to invoking the activations from the client.
   * @param payload - the job's calls (all of them)
   * @param callsPerActivation - calls per fanned-out activation (usually {@link callsPerInvocation})
   * @throws the same errors as {@link invoke}
   */
  async invokeRemote(payload: InvocationPayload, callsPerActivation: number = this.callsPerInvocation, staged?: StagedPayload): Promise<InvokeReceipt> {
    this.assertOpen();
    const action = await this.runtime.ensure(payload.memoryMb);
    const bearerToken = await this.conn.bearerToken();
    const auth = this.settings.auth;
    const request: RemoteInvokeRequest = {
      protocolVersion: PROTOCOL_VERSION,
      kind: "remote-invoke",
      ...(staged !== undefined
        ? { payloadRef: staged, hostSubmitMs: payload.hostSubmitMs, credentials: { storageConfig: payload.storage.config, ...(payload.amqp !== undefined ? { amqpUrl: payload.amqp.url } : {}) } }
        : { payload: encodePayload({ ...payload, startMarkers: true }) }),
      callsPerActivation: Math.max(1, Math.floor(callsPerActivation)),
      concurrency: Math.min(this.settings.invokePoolThreads, this.settings.maxWorkers),
      platform: {
        apihost: this.settings.endpoint,
        namespace: this.settings.namespace,
        action,
        insecure: this.settings.insecure,
        ...(auth.kind === "basic" ? { apiKey: auth.apiKey } : {}),
        ...(bearerToken !== undefined ? { bearerToken } : {}),
      },
    };
    // A staged job is fetched from storage by the platform: the request stays small.
    const signed = signPayload(JSON.stringify(request), this.signing.current());
    if (staged === undefined && Buffer.byteLength(JSON.stringify(signed)) > this.remoteInvokeLimitBytes) {
      return this.invokeFromClient(payload, request.callsPerActivation);
    }
    const doing = `invoking ${action} as remote invoker of job ${payload.executorId}/${payload.jobId} (${payload.calls.length} calls)`;
    const receipt = await this.send(action, signed, doing, payload.memoryMb, { executorId: payload.executorId, jobId: payload.jobId, calls: payload.calls.length });
    this.watch.trackFanOut(receipt.activationId, action, payload, request.callsPerActivation);
    return receipt;
  }

  /** The remote invoker's fallback for a job too large for one request: invoke from here. */
  private async invokeFromClient(payload: InvocationPayload, callsPerActivation: number): Promise<InvokeReceipt> {
    const sent: Array<Promise<InvokeReceipt>> = [];
    for (let i = 0; i < payload.calls.length; i += callsPerActivation) {
      sent.push(this.invoke({ ...payload, calls: payload.calls.slice(i, i + callsPerActivation) }));
    }
    const receipts = await Promise.all(sent);
    return receipts[0] ?? { activationId: "none" };
  }

  /** Drop queued activations of an executor (or one of its jobs) not sent yet; returns how many calls. */
  cancelPending(executorId: string, jobId?: string): number {
    const reason = new TswrenError(ErrorCodes.CANCELLED, `the invocation was cancelled before it was sent (executor ${executorId}${jobId !== undefined ? `, job ${jobId}` : ""})`);
    const dropped = this.queue.cancel((m) => m !== undefined && m.executorId === executorId && (jobId === undefined || m.jobId === jobId), reason);
    return dropped.reduce((n, m) => n + (m?.calls ?? 0), 0);
  }

  describe(): string {
    const s = this.settings;
    return `${s.section}: ${s.endpoint} namespace ${s.namespace}, action ${this.runtime.actionName(s.memoryMb)}, ${s.chunksize} call(s) per activation, ${s.invokePoolThreads} invoke requests at once`;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.close(new TswrenError(ErrorCodes.EXECUTOR_CLOSED, `the ${this.name} backend was closed before the invocation was sent; create a new executor`));
    this.watch.stop();
    this.listeners.clear();
    this.conn.close();
    await this.unreported.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new TswrenError(ErrorCodes.EXECUTOR_CLOSED, `the ${this.name} backend was closed; create a new executor`);
  }

  private send(action: string, params: object, doing: string, memoryMb: number, meta: InvocationMeta): Promise<InvokeReceipt> {
    let redeployed = false;
    return this.queue.push(
      {
        attempt: async () => {
          return this.conn.invoke(action, params);
        },
        onFailure: async (err, failures): Promise<FailureDecision> => {
          const decision = this.decide(err, failures, doing, redeployed);
          if (decision !== "redeploy") return decision;
          redeployed = true;
          await this.runtime.redeploy(memoryMb);
          return { kind: "retry", delayMs: 0 };
        },
      },
      meta,
    );
  }

  private decide(err: unknown, failures: number, doing: string, redeployed: boolean): FailureDecision | "redeploy" {
    if (err instanceof TswrenError) {
      if (err.code === ErrorCodes.COMPUTE_UNREACHABLE && failures <= this.networkRetries) return { kind: "retry", delayMs: this.networkDelayMs(failures) };
      return { kind: "fail", error: err };
    }
    const failure = classifyWhiskError(err, this.conn.secrets);
    const ctx = { keyName: this.settings.auth.keyName, endpoint: this.settings.endpoint, doing, section: this.settings.section };
    switch (failure.kind) {
      case "throttled":
        return { kind: "throttled", error: whiskError(failure, ctx, err) };
      case "network":
      case "server":
        if (failures <= this.networkRetries) return { kind: "retry", delayMs: this.networkDelayMs(failures) };
        return { kind: "fail", error: whiskError(failure, ctx, err) };
      case "missing":
        if (!redeployed) return "redeploy";
        return { kind: "fail", error: whiskError({ ...failure, detail: `${failure.detail}; the action is still missing after deploying it` }, ctx, err) };
      case "credentials":
      case "too-large":
      case "refused":
        return { kind: "fail", error: whiskError(failure, ctx, err) };
    }
  }

  private networkDelayMs(failures: number): number {
    const base = this.networkRetryBaseMs * 2 ** (failures - 1);
    return Math.round(base * (0.5 + Math.random() * 0.5));
  }
}
