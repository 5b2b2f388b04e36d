/**
 * Runs one accepted activation the way an OpenWhisk invoker does: lease a container, `/init` it
 * once, `/run` with the action's timeout, classify the answer (success, application error,
 * developer error, whisk error), cut its logs at the end markers, discard the container on a
 * developer error or timeout, and store the activation record.
 */
import type { ActivationStore } from "./activations.js";
import type { ResolvedAction } from "./action-store.js";
import { ContainerRequestError, type Container, type ProxyReply } from "./container.js";
import type { ContainerPool, Lease } from "./container-pool.js";
import { isObject } from "./http-json.js";
import { MESSAGES } from "./limits.js";
import type { ActivationRecord, ActivationStatus, KeyValue, OpenWhiskEmulatorStats } from "./types.js";

/** What the invoker shares across activations. */
export interface InvokerContext {
  namespace: string;
  apiKey: string;
  pool: ContainerPool;
  activations: ActivationStore;
  stats: OpenWhiskEmulatorStats;
  maxResultBytes: number;
  logMarkerWaitMs: number;
}

/** One accepted invoke. */
export interface ActivationRequest {
  activationId: string;
  transactionId: string;
  action: ResolvedAction;
  payload: Record<string, unknown>;
  /** Epoch ms at which the controller accepted it. */
  acceptedMs: number;
}

/** The classified outcome of `/init` + `/run`. */
interface Outcome {
  status: ActivationStatus;
  result: Record<string, unknown>;
  /** The container must not be reused. */
  discard: boolean;
  timedOut: boolean;
}

const STATUS_CODES: Record<ActivationStatus, number> = {
  success: 0,
  "application error": 1,
  "action developer error": 2,
  "whisk internal error": 3,
};

/**
 * Run an activation to its end and store its record.
 * @param ctx - shared state
 * @param req - the accepted invoke
 * @returns the stored record
 */
export async function runActivation(ctx: InvokerContext, req: ActivationRequest): Promise<ActivationRecord> {
  const { limits } = req.action.doc;
  let lease: Lease;
  try {
    lease = await ctx.pool.acquire({ containerKey: req.action.containerKey, concurrency: limits.concurrency, memoryMb: limits.memory });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const outcome: Outcome = { status: "whisk internal error", result: { error: "Failed to provision resources to run the action." }, discard: false, timedOut: false };
    return finish(ctx, req, outcome, { startMs: Date.now(), logs: [`${new Date().toISOString()} stderr: ${message}`] });
  }
  const { container } = lease;
  const startMs = Date.now();
  let initMs: number | undefined;
  let outcome = await initOnce(container, req, () => (initMs = Date.now() - startMs));
  outcome ??= await runOnce(ctx, container, req);
  // A timed-out container is killed before its logs are read (it may print forever); a live one
  // gets the chance to print its end markers first.
  if (outcome.timedOut) await ctx.pool.discard(container);
  const logs = await container.collectLogs(ctx.logMarkerWaitMs, limits.logs * 1024 * 1024);
  if (outcome.discard && !outcome.timedOut) await ctx.pool.discard(container);
  if (!outcome.discard) ctx.pool.release(container);
  const lines = !logs.complete && outcome.status === "action developer error" ? [...logs.lines, MESSAGES.logWarning] : logs.lines;
  return finish(ctx, req, outcome, { startMs, logs: lines, ...(initMs === undefined ? {} : { initMs }) });
}

/** `/init` the container if nobody has; undefined when it is initialized, else the failure. */
async function initOnce(container: Container, req: ActivationRequest, onInit: () => void): Promise<Outcome | undefined> {
  const { doc, initEnv } = req.action;
  const timeoutMs = doc.limits.timeout;
  if (container.init === undefined) {
    const value = { name: doc.name, main: doc.exec.main ?? "main", code: doc.exec.code ?? "", binary: doc.exec.binary, env: initEnv };
    container.init = container.post("/init", { value }, timeoutMs);
    container.init.then(onInit, onInit);
  }
  let reply: ProxyReply;
  try {
    reply = await container.init;
  } catch (err) {
    const timedOut = err instanceof ContainerRequestError && err.kind === "timeout";
    return developerError(timedOut ? MESSAGES.timedOut(timeoutMs, true) : MESSAGES.abnormalInit, timedOut);
  }
  if (reply.status === 200) return undefined;
  const body = parseJson(reply.body);
  return developerError(isObject(body) && body["error"] !== undefined ? body["error"] : MESSAGES.invalidInit(reply.body), false);
}

async function runOnce(ctx: InvokerContext, container: Container, req: ActivationRequest): Promise<Outcome> {
  const { doc, runParameters, path } = req.action;
  const timeoutMs = doc.limits.timeout;
  const provideKey = doc.annotations.find((a) => a.key === "provide-api-key")?.value !== false;
  const body = {
    value: { ...runParameters, ...req.payload },
    namespace: ctx.namespace,
    action_name: `/${ctx.namespace}/${path}`,
    action_version: doc.version,
    activation_id: req.activationId,
    transaction_id: req.transactionId,
    deadline: String(Date.now() + timeoutMs),
    ...(provideKey ? { api_key: ctx.apiKey } : {}),
  };
  let reply: ProxyReply;
  try {
    reply = await container.post("/run", body, timeoutMs);
  } catch (err) {
    const timedOut = err instanceof ContainerRequestError && err.kind === "timeout";
    return developerError(timedOut ? MESSAGES.timedOut(timeoutMs, false) : MESSAGES.abnormalRun, timedOut);
  }
  return classifyRun(reply, ctx.maxResultBytes);
}

/**
 * Classify a `/run` answer as OpenWhisk's controller does: 200 with an object is a success, or an
 * application error when the object has an `error` field; anything else is a developer error.
 */
function classifyRun(reply: ProxyReply, maxResultBytes: number): Outcome {
  const bytes = Buffer.byteLength(reply.body);
  if (bytes > maxResultBytes) return developerError(MESSAGES.truncated(bytes, maxResultBytes), false);
  const body = parseJson(reply.body);
  if (!isObject(body)) return developerError(MESSAGES.invalidRun(reply.body), false);
  if (reply.status !== 200) return developerError(body["error"] ?? MESSAGES.invalidRun(reply.body), false);
  if (body["error"] !== undefined) {
    return { status: "application error", result: { error: body["error"] }, discard: false, timedOut: false };
  }
  return { status: "success", result: body, discard: false, timedOut: false };
}

function developerError(error: unknown, timedOut: boolean): Outcome {
  return { status: "action developer error", result: { error }, discard: true, timedOut };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

interface Timing {
  startMs: number;
  initMs?: number;
  logs: string[];
}

function finish(ctx: InvokerContext, req: ActivationRequest, outcome: Outcome, timing: Timing): ActivationRecord {
  const endMs = Date.now();
  const { doc, path } = req.action;
  const statusCode = STATUS_CODES[outcome.status];
  const annotations: KeyValue[] = [
    { key: "path", value: `${ctx.namespace}/${path}` },
    { key: "waitTime", value: timing.startMs - req.acceptedMs },
    { key: "kind", value: doc.exec.kind },
    { key: "timeout", value: outcome.timedOut },
    { key: "limits", value: doc.limits },
    ...(timing.initMs === undefined ? [] : [{ key: "initTime", value: timing.initMs }]),
  ];
  const record: ActivationRecord = {
    activationId: req.activationId,
    namespace: ctx.namespace,
    name: doc.name,
    version: doc.version,
    subject: ctx.namespace,
    publish: false,
    start: timing.startMs,
    end: endMs,
    duration: endMs - timing.startMs,
    statusCode,
    response: {
      status: outcome.status,
      statusCode,
      success: statusCode === 0,
      result: outcome.result,
      size: Buffer.byteLength(JSON.stringify(outcome.result)),
    },
    logs: timing.logs,
    annotations,
  };
  ctx.activations.complete(record);
  ctx.stats.activationsCompleted++;
  return record;
}
