/**
 * The Knative compute backend (also IBM Code Engine apps and Cloud Run): each invocation is an
 * HTTP POST of the JSON payload to the service URL, over a keep-alive pool of at most
 * `max_workers` connections. The service runs the calls and answers 200
 * `{ tswrenVersion, nodeVersion, statuses }`; those statuses are delivered on the direct channel
 * (the `events` capability), so the client needs no polling. A lost response is tolerated: the workers also
 * write `start` keys and `status.json`, which the storage monitor reads (`reportsEveryCall` is
 * false); a connection that broke after the request was sent, without an answer (the service's
 * process died), fails the calls that wrote no status at once as a `crash`. `concurrency` is the service's requests per container (its `containerConcurrency`,
 * `TSWREN_CONCURRENCY` of the runtime server); the client only reports it.
 */
import http from "node:http";
import https from "node:https";
import type { ConfigSection } from "../config/types.js";
import { ErrorCodes, TswrenError } from "../errors.js";
import { decodeStatus, encodePayload, failedStatus } from "../protocol.js";
import type { CallStatus, InvocationPayload, RemoteErrorInfo } from "../protocol.js";
import { checkRuntimeVersion } from "../runtime-version.js";
import { TSWREN_VERSION } from "../version.js";
import type { ComputeBackend, ComputeCapabilities, ComputeEvent, InvokeReceipt } from "./backend.js";
import { DeploymentKey } from "../security/key-store.js";
import { signPayload } from "../security/signing.js";
import { knativeRuntimeList } from "./knative-runtime.js";
import { UnreportedCalls } from "./unreported-calls.js";
import { showOnly } from "../security/opaque.js";

/** Options of {@link KnativeCompute} that do not come from its config section. */
export interface KnativeComputeOptions {
  /** Attempts of a request the service did not take (connection refused, 429, 503); default 6. */
  attempts?: number;
  /** First pause before such a retry, doubling each time; default 250 ms. */
  retryBaseMs?: number;
}

/** One POST's outcome: an HTTP answer, or a failure before/after the request reached the service. */
type PostOutcome = { kind: "answer"; status: number; text: string } | { kind: "failed"; sent: boolean; error: Error };

/** Pause before retrying a request the service did not take. */
const RETRY_STATUSES = new Set([429, 503]);
/** Network errors after which a request on a reused keep-alive socket is safe to re-send. */
const STALE_SOCKET_CODES = new Set(["ECONNRESET", "EPIPE"]);

let requestCount = 0;
/** Name of the error of a request that got no answer in time (the client gave up, nothing broke). */
const NO_ANSWER = "NoAnswerError";

/** Runs calls as HTTP requests to a Knative service running the tswren runtime server. */
export class KnativeCompute implements ComputeBackend {
  readonly name = "knative";
  /** Events from the answers; `tswren runtime list` reads the service's versions. */
  readonly capabilities: ComputeCapabilities;
  /** One call per request: the service scales out per request. */
  readonly callsPerInvocation = 1;
  private readonly url: URL;
  private readonly agent: http.Agent;
  private readonly listeners = new Set<(event: ComputeEvent) => void>();
  private readonly inflight = new Set<http.ClientRequest>();
  private readonly concurrency: number;
  private readonly maxWorkers: number;
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly retryBaseMs: number;
  private versionError: TswrenError | null = null;
  private readonly unreported = new UnreportedCalls();
  /** The service's signing key: every request is signed with it (the service answers 401 otherwise). */
  private readonly signing: DeploymentKey;
  private reached = false;
  private closed = false;

  /**
   * @param config - the loaded `knative` section (`url`, `concurrency`, `max_workers`, `runtime_timeout`)
   * @param options - retry tuning
   */
  constructor(config: ConfigSection<"knative">, options: KnativeComputeOptions = {}) {
    showOnly(this, "KnativeCompute", () => ({ backend: this.name, describe: this.describe() }));
    this.url = new URL(config.url);
    this.concurrency = config.concurrency;
    this.maxWorkers = config.max_workers;
    this.timeoutMs = config.runtime_timeout * 1000;
    this.attempts = options.attempts ?? 6;
    this.retryBaseMs = options.retryBaseMs ?? 250;
    this.signing = new DeploymentKey("knative", config);
    const agentOptions = { keepAlive: true, maxSockets: this.maxWorkers };
    this.agent = this.url.protocol === "https:" ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.capabilities = {
      reportsEveryCall: false,
      events: { subscribe: (listener) => this.onEvent(listener) },
      runtimeList: knativeRuntimeList(this.url),
    };
  }

  /**
   * POST the payload to the service. Resolves at once when the service was reached before;
   * the first invocations wait until one request reached it, so a wrong URL fails here.
   * @throws TswrenError `TSWREN_COMPUTE_UNREACHABLE`, `TSWREN_RUNTIME_VERSION`, `TSWREN_EXECUTOR_CLOSED`
   */
  async invoke(payload: InvocationPayload): Promise<InvokeReceipt> {
    if (this.closed) throw new TswrenError(ErrorCodes.EXECUTOR_CLOSED, "the knative backend was closed; create a new executor");
    if (this.versionError !== null) throw this.versionError;
    const activationId = `knative-${process.pid}-${++requestCount}`;
    const body = JSON.stringify(signPayload(JSON.stringify({ ...encodePayload(payload), startMarkers: true }), this.signing.current()));
    let settled = false;
    const done = this.deliver(payload, body, () => settled);
    done.catch(() => undefined); // awaited below while it matters; later it never rejects
    if (!this.reached) await Promise.race([done, this.waitReached()]);
    settled = true;
    return { activationId };
  }

  /** Subscribe to the calls' events (the `events` capability); returns unsubscribe. */
  onEvent(listener: (event: ComputeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  describe(): string {
    return `knative: ${this.url.origin}${this.url.pathname} (${this.concurrency} requests per container, up to ${this.maxWorkers} at once)`;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const req of this.inflight) req.destroy();
    this.inflight.clear();
    this.listeners.clear();
    this.agent.destroy();
    await this.unreported.close();
  }

  private readonly reachWaiters: Array<() => void> = [];

  /** Resolves when any request has reached the service. */
  private waitReached(): Promise<void> {
    if (this.reached) return Promise.resolve();
    return new Promise<void>((resolve) => this.reachWaiters.push(resolve));
  }

  /**
   * Send (with retries) and handle the answer. Rejects only while `invoke` has not resolved yet
   * and the service was never reached; later failures become failed statuses or are left to the
   * storage monitor.
   */
  private async deliver(payload: InvocationPayload, body: string, invokeSettled: () => boolean): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.post(body, () => {
        this.reached = true;
        for (const w of this.reachWaiters.splice(0)) w();
      });
      if (this.closed) return;
      const retryable =
        (outcome.kind === "answer" && RETRY_STATUSES.has(outcome.status)) ||
        (outcome.kind === "failed" && !outcome.sent);
      if (retryable && attempt < this.attempts) {
        await new Promise((resolve) => setTimeout(resolve, this.retryBaseMs * 2 ** (attempt - 1) * (0.5 + Math.random() * 0.5)));
        continue;
      }
      if (outcome.kind === "answer") {
        this.handleAnswer(payload, outcome.status, outcome.text);
        return;
      }
      if (outcome.sent) {
        await this.connectionLost(payload, outcome.error);
        return;
      }
      const error = new TswrenError(
        ErrorCodes.COMPUTE_UNREACHABLE,
        `cannot reach the knative service at ${this.url.origin} for job ${payload.executorId}/${payload.jobId} (${outcome.error.message}); check knative.url and that the service is running`,
        { cause: outcome.error },
      );
      if (!invokeSettled() && !this.reached) throw error;
      this.fail(payload, { kind: "lost", name: "TswrenError", message: error.message });
      return;
    }
  }

  /**
   * The connection broke after the request reached the service, with no answer: the process
   * running the calls died (killed, crashed, out of memory) or the network cut it. Calls that
   * wrote their status meanwhile keep it (the storage monitor reads it); the others fail now as a
   * crash instead of at their deadline.
   */
  private async connectionLost(payload: InvocationPayload, error: Error): Promise<void> {
    const calls = await this.unreported.of(payload);
    if (this.closed || calls.length === 0) return;
    const cause = error.message !== "" ? error.message : "connection closed";
    const info: RemoteErrorInfo = error.name === NO_ANSWER ? {
      kind: "lost",
      name: "CallLost",
      message: `the knative service at ${this.url.origin} did not answer the request (${cause}); the call did not report an end`,
    } : {
      kind: "crash",
      name: "ServiceConnectionLost",
      message: `the knative service at ${this.url.origin} closed the connection while the call ran, without an answer (${cause}): its process was killed, crashed (process.exit, a signal) or ran out of memory`,
    };
    this.fail({ ...payload, calls }, info);
  }

  private handleAnswer(payload: InvocationPayload, status: number, text: string): void {
    const json = parseObject(text);
    const refusal = typeof json?.["error"] === "string" ? json["error"] : undefined;
    if (status === 200 && json?.["tswrenVersion"] === undefined) {
      this.versionError ??= new TswrenError(
        ErrorCodes.COMPUTE,
        `the service at ${this.url.origin} answered HTTP 200 but not as a tswren runtime (no tswrenVersion in its answer); check knative.url`,
      );
      this.fail(payload, { kind: "protocol", name: "TswrenError", message: this.versionError.message });
      return;
    }
    if (status === 401) {
      this.versionError ??= new TswrenError(
        ErrorCodes.UNAUTHORIZED,
        `the knative service at ${this.url.origin} refused the request (HTTP 401: ${refusal ?? text.slice(0, 200)}); configure knative.signing_key (or $TSWREN_SIGNING_KEY) to the key the service was deployed with, see docs/security.md`,
      );
      this.fail(payload, { kind: "protocol", name: "TswrenError", message: this.versionError.message });
      return;
    }
    const mismatch = status === 409 ? (refusal ?? `HTTP 409: ${text.slice(0, 300)}`) : status === 200 ? checkRuntimeVersion(json?.["tswrenVersion"], "client") : null;
    if (mismatch !== null) {
      this.versionError ??= new TswrenError(
        ErrorCodes.RUNTIME_VERSION,
        `the knative service at ${this.url.origin} runs another tswren version than this client (tswren ${TSWREN_VERSION}): ${mismatch.replace(/deploy the client's runtime with `[^`]+`/, "rebuild and redeploy the service with the runtime of the client's version")}`,
      );
      this.fail(payload, { kind: "protocol", name: "TswrenError", message: this.versionError.message });
      return;
    }
    if (status === 200 && Array.isArray(json?.["statuses"])) {
      for (const raw of json["statuses"] as unknown[]) this.emitStatus(raw);
      return;
    }
    const detail = refusal ?? text.slice(0, 300);
    const kind: RemoteErrorInfo["kind"] =
      status === 504 ? "timeout" : status >= 500 ? "crash" : status === 429 || status === 503 ? "lost" : "protocol";
    this.fail(payload, { kind, name: "TswrenError", message: `the knative service at ${this.url.origin} answered HTTP ${status}: ${detail}` });
  }

  private emitStatus(raw: unknown): void {
    let status: CallStatus;
    try {
      status = decodeStatus(JSON.stringify(raw));
    } catch {
      return; // not a status: the storage monitor reads status.json instead
    }
    this.emit({ type: "status", status });
  }

  /** Report every call of the payload as failed (the service did not run them). */
  private fail(payload: InvocationPayload, error: RemoteErrorInfo): void {
    for (const call of payload.calls) {
      this.emit({ type: "status", status: failedStatus(payload, call, error, `knative-client-${process.pid}`), byPlatform: true });
    }
  }

  private emit(event: ComputeEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** One POST. `sent` tells whether the request may have reached the service. */
  private post(body: string, onConnected: () => void): Promise<PostOutcome> {
    return new Promise<PostOutcome>((resolve) => {
      const client = this.url.protocol === "https:" ? https : http;
      let sent = false;
      let answered = false;
      const req = client.request(this.url, {
        method: "POST",
        agent: this.agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        timeout: this.timeoutMs + 30_000,
      });
      this.inflight.add(req);
      const finish = (outcome: PostOutcome): void => {
        this.inflight.delete(req);
        resolve(outcome);
      };
      req.on("socket", (socket) => {
        const connected = (): void => {
          sent = true;
          onConnected();
        };
        if (socket.connecting) socket.once("connect", connected);
        else connected();
      });
      req.on("timeout", () => {
        const error = new TswrenError(ErrorCodes.COMPUTE_UNREACHABLE, `no answer within ${Math.round((this.timeoutMs + 30_000) / 1000)} s`);
        error.name = NO_ANSWER;
        req.destroy(error);
      });
      req.on("response", (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => { finish({ kind: "answer", status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }); });
        res.on("error", (error) => { finish({ kind: "failed", sent: true, error }); });
      });
      req.on("error", (error: NodeJS.ErrnoException) => {
        if (answered) return;
        // A reused keep-alive socket the server closed meanwhile: nothing reached the service.
        const stale = req.reusedSocket && error.code !== undefined && STALE_SOCKET_CODES.has(error.code);
        finish({ kind: "failed", sent: sent && !stale, error });
      });
      req.end(body);
    });
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
