/**
 * The AWS Lambda compute backend (section `aws_lambda`): each invocation is an asynchronous
 * (`InvocationType: Event`) invocation of the tswren function of the payload's memory size,
 * carrying `chunksize` calls as JSON; Lambda answers 202 and its request id is the activation
 * id. Requests go out with bounded concurrency (`invoke_pool_threads`); 429s pause every request
 * with back-off and jitter (`tswren.retry_sleeps`, then doubling); network failures and 5xx are
 * retried a few times; a missing function is deployed once and the invoke retried. A payload
 * over Lambda's 256 KB async limit is stored as JSON beside the job and the invocation carries a
 * reference. Completion is observed through storage (start markers + `status.json`); the runtime
 * itself writes the status of a call that timed out, ran out of memory or crashed.
 *
 * Every event is signed (`SignedRequest`) with the deployment's key (`aws_lambda.signing_key`,
 * `$TSWREN_SIGNING_KEY` or the key file `tswren runtime deploy` writes), valid for Lambda's 6 h
 * event age; the function holds the key in its environment and refuses anything else.
 */
import { createHash } from "node:crypto";
import { InvokeCommand } from "@aws-sdk/client-lambda";
import type { ConfigSection } from "../../config/types.js";
import { ErrorCodes, TswrenError } from "../../errors.js";
import { encodePayload, PROTOCOL_VERSION } from "../../protocol.js";
import { DeploymentKey } from "../../security/key-store.js";
import { signPayload } from "../../security/signing.js";
import type { InvocationPayload, RemoteInvokeRequest } from "../../protocol.js";
import type { ComputeBackend, ComputeCapabilities, InvokeReceipt, StagedPayload } from "../backend.js";
import { InvokeQueue, type FailureDecision } from "../openwhisk/invoke-queue.js";
import { PayloadStorages } from "../payload-storages.js";
import type { ComputeContext } from "../registry.js";
import { lambdaClients, type LambdaClients } from "./clients.js";
import { ASYNC_PAYLOAD_LIMIT_BYTES, EVENT_SIGNATURE_TTL_MS, stagedPayloadKey, type LambdaPayloadRef } from "./events.js";
import { LambdaFunctions } from "./functions.js";
import { classifyLambdaError, lambdaError } from "./lambda-errors.js";
import { lambdaSettings, type LambdaSettings } from "./settings.js";
import { showOnly } from "../../security/opaque.js";

export { LambdaFunctions } from "./functions.js";
export { functionName, lambdaSettings } from "./settings.js";
export type { LambdaSettings } from "./settings.js";

/** Options of {@link AwsLambdaCompute} that do not come from its section. */
export interface AwsLambdaComputeOptions extends ComputeContext {
  /** Retries of an invoke after network failures or 5xx answers (default 5). */
  networkRetries?: number;
  /** Reject the backlog when throttled with nothing accepted for this long (default max(2 × runtime_timeout, 120 s)). */
  throttleGiveUpMs?: number;
}

interface InvocationMeta {
  executorId: string;
  jobId: string;
  calls: number;
}

/**
 * Runs calls as asynchronous invocations of the tswren function on AWS Lambda.
 * @example
 * ```ts
 * const lambda = new AwsLambdaCompute(validateSection("aws_lambda", { region: "eu-west-1" }, "code"));
 * await lambda.invoke(payload); // resolves once Lambda accepted the event (202)
 * ```
 */
export class AwsLambdaCompute implements ComputeBackend {
  readonly name = "aws_lambda";
  readonly capabilities: ComputeCapabilities;
  readonly callsPerInvocation: number;
  readonly settings: LambdaSettings;
  /** The deployed functions (deploy, list, delete). */
  readonly functions: LambdaFunctions;
  private readonly clients: LambdaClients;
  private readonly queue: InvokeQueue<InvocationMeta>;
  private readonly networkRetries: number;
  private readonly storages = new PayloadStorages();
  /** The deployment's signing key (every event is signed with it). */
  readonly signing: DeploymentKey;
  private closed = false;

  /**
   * @param config - the validated `aws_lambda` section
   * @param options - `tswren.retry_sleeps` and retry tuning
   * @throws TswrenError `TSWREN_CONFIG_BAD_VALUE` for malformed tags
   */
  constructor(config: ConfigSection<"aws_lambda">, options: AwsLambdaComputeOptions = {}) {
    showOnly(this, "AwsLambdaCompute", () => ({ backend: this.name, describe: this.describe() }));
    this.settings = lambdaSettings(config);
    this.callsPerInvocation = this.settings.chunksize;
    this.clients = lambdaClients(this.settings);
    this.signing = new DeploymentKey("aws_lambda", config);
    this.functions = new LambdaFunctions(this.clients, this.settings, this.signing);
    this.networkRetries = options.networkRetries ?? 5;
    this.queue = new InvokeQueue<InvocationMeta>({
      concurrency: this.settings.invokePoolThreads,
      throttleSleepsS: options.retrySleepsS ?? [1, 5],
      giveUpMs: options.throttleGiveUpMs ?? Math.max(2 * this.settings.timeoutS * 1000, 120_000),
    });
    this.capabilities = {
      reportsEveryCall: false,
      remoteInvoke: { byDefault: this.settings.remoteInvoker, invoke: (p, n, staged) => this.invokeRemote(p, n, staged) },
      cancelPending: { cancel: (executorId, jobId) => this.cancelPending(executorId, jobId) },
      runtimeList: { list: () => this.listLines() },
      runtimeDeploy: { deploy: (mb) => this.deployLine(mb), remove: (mb) => this.removeLines(mb) },
    };
  }

  /**
   * Send one asynchronous invocation holding `payload.calls` (with start markers on).
   * @throws TswrenError `TSWREN_COMPUTE_CREDENTIALS`, `TSWREN_RUNTIME_MISSING`, `TSWREN_COMPUTE_THROTTLED`,
   *   `TSWREN_COMPUTE_UNREACHABLE`, `TSWREN_COMPUTE`, `TSWREN_EXECUTOR_CLOSED`
   */
  async invoke(payload: InvocationPayload): Promise<InvokeReceipt> {
    this.assertOpen();
    const fn = await this.functions.ensure(payload.memoryMb);
    let body = this.signed({ ...encodePayload(payload), startMarkers: true });
    if (Buffer.byteLength(body) > ASYNC_PAYLOAD_LIMIT_BYTES) body = this.signed(await this.stage(payload));
    const doing = `invoking ${fn} for job ${payload.executorId}/${payload.jobId} (${payload.calls.length} calls from ${payload.calls[0]?.callId ?? "-"})`;
    return this.send(fn, body, doing, payload.memoryMb, { executorId: payload.executorId, jobId: payload.jobId, calls: payload.calls.length });
  }

  /** A value as the signed event text. */
  private signed(value: object): string {
    return JSON.stringify(signPayload(JSON.stringify(value), this.signing.current(), { ttlMs: EVENT_SIGNATURE_TTL_MS }));
  }

  /**
   * Store a payload too large for an async invocation, without its credentials (they travel in
   * the signed reference, with the stored text's SHA-256); returns the reference to send.
   */
  private async stage(payload: InvocationPayload): Promise<LambdaPayloadRef> {
    const ref = payload.storage;
    const amqp = payload.amqp !== undefined ? { amqp: { ...payload.amqp, url: "" } } : {};
    const text = JSON.stringify({ ...encodePayload({ ...payload, storage: { ...ref, config: {} }, ...amqp }), startMarkers: true });
    const key = stagedPayloadKey(ref.prefix, payload.executorId, payload.jobId, payload.calls[0]?.callId ?? "00000");
    await (await this.storages.of(payload)).put(ref.bucket, key, text);
    const sha256 = createHash("sha256").update(text).digest("hex");
    const credentials = { storageConfig: ref.config, ...(payload.amqp !== undefined ? { amqpUrl: payload.amqp.url } : {}) };
    return { protocolVersion: PROTOCOL_VERSION, kind: "payload-ref", storage: { ...ref, config: {} }, key, sha256, credentials };
  }

  /**
   * The remote invoker: ONE invocation holding the whole job (or a reference to it, staged in
   * storage); the function fans the calls out with Event invocations of itself.
   */
  private async invokeRemote(payload: InvocationPayload, callsPerActivation: number, staged?: StagedPayload): Promise<InvokeReceipt> {
    this.assertOpen();
    const fn = await this.functions.ensure(payload.memoryMb);
    const request: RemoteInvokeRequest = {
      protocolVersion: PROTOCOL_VERSION,
      kind: "remote-invoke",
      ...(staged !== undefined ? { payloadRef: staged, hostSubmitMs: payload.hostSubmitMs, credentials: { storageConfig: payload.storage.config, ...(payload.amqp !== undefined ? { amqpUrl: payload.amqp.url } : {}) } } : { payload: encodePayload({ ...payload, startMarkers: true }) }),
      callsPerActivation: Math.max(1, Math.floor(callsPerActivation)),
      concurrency: Math.min(this.settings.invokePoolThreads, this.settings.maxWorkers),
      platform: { apihost: this.settings.endpoint ?? "", namespace: await this.clients.region(), action: fn, insecure: false },
    };
    const body = this.signed(request);
    if (Buffer.byteLength(body) > ASYNC_PAYLOAD_LIMIT_BYTES) {
      const sent: Array<Promise<InvokeReceipt>> = [];
      for (let i = 0; i < payload.calls.length; i += request.callsPerActivation) sent.push(this.invoke({ ...payload, calls: payload.calls.slice(i, i + request.callsPerActivation) }));
      return (await Promise.all(sent))[0] ?? { activationId: "none" };
    }
    const doing = `invoking ${fn} as remote invoker of job ${payload.executorId}/${payload.jobId} (${payload.calls.length} calls)`;
    return this.send(fn, body, doing, payload.memoryMb, { executorId: payload.executorId, jobId: payload.jobId, calls: payload.calls.length });
  }

  private cancelPending(executorId: string, jobId?: string): number {
    const reason = new TswrenError(ErrorCodes.CANCELLED, `the invocation was cancelled before it was sent (executor ${executorId}${jobId !== undefined ? `, job ${jobId}` : ""})`);
    const dropped = this.queue.cancel((m) => m !== undefined && m.executorId === executorId && (jobId === undefined || m.jobId === jobId), reason);
    return dropped.reduce((n, m) => n + (m?.calls ?? 0), 0);
  }

  private async deployLine(memoryMb?: number): Promise<string> {
    const mb = memoryMb ?? this.settings.memoryMb;
    const name = await this.functions.deploy(mb);
    return `deployed ${name} (nodejs20.x, ${this.settings.architecture}, ${mb} MB, timeout ${this.settings.timeoutS} s) in ${await this.clients.where()}`;
  }

  private async listLines(): Promise<string[]> {
    const found = await this.functions.list();
    if (found.length === 0) return [`no tswren function deployed in ${await this.clients.where()}`];
    return found.map((f) => `${f.name}\t${f.memoryMb ?? "?"} MB\ttswren ${f.tswrenVersion ?? "unknown"}\t${f.state ?? ""}`);
  }

  private async removeLines(memoryMb?: number): Promise<string[]> {
    const deleted = await this.functions.remove(memoryMb);
    if (deleted.length === 0) return [`nothing to delete in ${await this.clients.where()}`];
    return deleted.map((name) => `deleted ${name}`);
  }

  describe(): string {
    const s = this.settings;
    return `aws_lambda: ${s.region ?? "region from the AWS chain"}${s.endpoint !== undefined ? ` at ${s.endpoint}` : ""}, function ${this.functions.nameOf(s.memoryMb)}, ${s.chunksize} call(s) per invocation, ${s.invokePoolThreads} invoke requests at once`;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue.close(new TswrenError(ErrorCodes.EXECUTOR_CLOSED, "the aws_lambda backend was closed before the invocation was sent; create a new executor"));
    this.clients.close();
    await this.storages.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new TswrenError(ErrorCodes.EXECUTOR_CLOSED, "the aws_lambda backend was closed; create a new executor");
  }

  private send(fn: string, body: string, doing: string, memoryMb: number, meta: InvocationMeta): Promise<InvokeReceipt> {
    let redeployed = false;
    const bytes = Buffer.from(body);
    return this.queue.push(
      {
        attempt: async () => {
          const out = await this.clients.lambda.send(new InvokeCommand({ FunctionName: fn, InvocationType: "Event", Payload: bytes }));
          return { activationId: out.$metadata.requestId ?? "" };
        },
        onFailure: async (err, failures): Promise<FailureDecision> => {
          const kind = classifyLambdaError(err);
          if (kind === "missing" && !redeployed) {
            redeployed = true;
            this.functions.forget(memoryMb);
            await this.functions.ensure(memoryMb);
            return { kind: "retry", delayMs: 0 };
          }
          const error = lambdaError(err, doing, await this.clients.where());
          if (kind === "throttled") return { kind: "throttled", error };
          if ((kind === "network" || kind === "server") && failures <= this.networkRetries) return { kind: "retry", delayMs: Math.round(200 * 2 ** (failures - 1) * (0.5 + Math.random() / 2)) };
          return { kind: "fail", error };
        },
      },
      meta,
    );
  }
}
