/**
 * The remote invoker: one activation receives a whole job and invokes its calls from inside the
 * platform, non-blocking, in activations of `callsPerActivation` calls with at most
 * `concurrency` invocations in flight, so the client's submit time does not grow with the job.
 *
 * Throttling (429) is retried with exponential backoff until the activation's deadline nears;
 * network errors and 5xx a few times. A group of calls that still cannot be invoked gets a failed
 * status written for each call (kind `lost`), so the client retries or reports them instead of
 * waiting for their timeout. The `openwhisk` client's own `retry` option is never used: it
 * retries every failure, and a timed-out invoke could then run twice.
 */
import * as http from "node:http";
import * as https from "node:https";
import openwhisk from "openwhisk";
import { ErrorCodes, TswrenError, failedStatus, runtimeSigningKeys, signPayload } from "tswren/internal";
import type { InvocationPayload, InvocationPayloadJson, RemoteInvokeRequest } from "tswren/internal";
import { persistStatus } from "./handler.js";
import { storageFor } from "./storage-cache.js";

/** Invokes one activation non-blocking and returns its activation id. */
export type InvokeActivation = (params: InvocationPayloadJson) => Promise<string>;

/** What the fan-out did. */
export interface FanOutSummary {
  /** Calls of the job. */
  calls: number;
  /** Activations accepted by the platform. */
  activations: number;
  /** 429 answers that were retried. */
  throttled: number;
  /** Calls whose activation could not be invoked (each got a failed status). */
  failedCallIds: string[];
  /**
   * The id of each group's activation, in group order (the job's calls cut in slices of
   * `callsPerActivation`), `null` for a group that could not be invoked; the client watches them
   * so that a dead one fails its calls early. Left out past {@link MAX_LISTED_ACTIVATIONS}.
   */
  activationIds?: Array<string | null>;
}

/** Most activation ids listed in a fan-out's result (about 35 bytes each: the result stays under 1 MiB). */
export const MAX_LISTED_ACTIVATIONS = 20_000;

/** Backoff of the fan-out. */
export interface FanOutOptions {
  /** Invokes one activation; default: the `openwhisk` client built from the request's platform. */
  invoke?: InvokeActivation;
  /** First backoff after a 429, ms (doubles each time, with jitter). */
  firstBackoffMs?: number;
  /** Longest backoff, ms. */
  maxBackoffMs?: number;
  /** Give up on a group this long before the activation's deadline (`__OW_DEADLINE`), ms. */
  deadlineMarginMs?: number;
  /** Attempts for network errors and 5xx answers. */
  maxTransientAttempts?: number;
}

const DEFAULTS = { firstBackoffMs: 200, maxBackoffMs: 10_000, deadlineMarginMs: 5_000, maxTransientAttempts: 4 };
/** Without a platform deadline, 429s are retried for at most this long per group. */
const NO_DEADLINE_RETRY_MS = 120_000;

interface HttpError {
  statusCode?: unknown;
  message?: unknown;
}

function statusCodeOf(err: unknown): number | undefined {
  const code = typeof err === "object" && err !== null ? (err as HttpError).statusCode : undefined;
  return typeof code === "number" ? code : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String((err as HttpError | undefined)?.message ?? err);
}

/**
 * The default invoker: the bundled `openwhisk` npm client, with a keep-alive agent. Each group's
 * payload is signed with this runtime's own key (`$TSWREN_SIGNING_KEY`), as the client would.
 * @param platform - how to reach the platform; a missing key falls back to `__OW_API_KEY`
 * @returns a function that invokes the job's action non-blocking
 */
export function openwhiskInvoker(platform: RemoteInvokeRequest["platform"]): InvokeActivation {
  const secure = !platform.apihost.startsWith("http://");
  const agent = secure ? new https.Agent({ keepAlive: true, rejectUnauthorized: !platform.insecure }) : new http.Agent({ keepAlive: true });
  const token = platform.bearerToken;
  const client = openwhisk({
    apihost: platform.apihost,
    namespace: platform.namespace,
    ignore_certs: platform.insecure,
    agent,
    ...(token !== undefined ? { auth_handler: { getAuthHeader: () => Promise.resolve(`Bearer ${token}`) } } : {}),
    ...(platform.apiKey !== undefined ? { api_key: platform.apiKey } : {}),
  });
  const [key] = runtimeSigningKeys();
  if (key === undefined) throw new TswrenError(ErrorCodes.SIGNING_KEY, "the remote invoker has no signing key ($TSWREN_SIGNING_KEY)");
  return async (params) => {
    const signed = signPayload(JSON.stringify(params), key);
    const accepted = await client.actions.invoke({ name: platform.action, namespace: platform.namespace, params: signed, blocking: false });
    return accepted.activationId;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The activation's deadline from the OpenWhisk environment (ms since epoch), if any. */
function platformDeadlineMs(): number | undefined {
  const raw = Number(process.env["__OW_DEADLINE"]);
  return Number.isFinite(raw) && raw > 0 ? raw : undefined;
}

/** Invoke one group, retrying 429s until `giveUpMs` and transient failures a few times. */
async function invokeGroup(invoke: InvokeActivation, params: InvocationPayloadJson, o: typeof DEFAULTS, giveUpMs: number, counters: { throttled: number }): Promise<string> {
  let backoffMs = o.firstBackoffMs;
  for (let transient = 1; ; ) {
    try {
      return await invoke(params);
    } catch (err) {
      const code = statusCodeOf(err);
      const throttled = code === 429;
      const retryable = throttled || code === undefined || code >= 500;
      if (!retryable || (!throttled && transient++ >= o.maxTransientAttempts)) throw err;
      const waitMs = Math.min(o.maxBackoffMs, backoffMs) * (0.75 + Math.random() / 2);
      if (Date.now() + waitMs > giveUpMs) throw err;
      if (throttled) counters.throttled++;
      backoffMs *= 2;
      await sleep(waitMs);
    }
  }
}

/** Write (and in RabbitMQ monitoring, publish) a failed status for each call of a group that could not be invoked. */
async function reportNotInvoked(payload: InvocationPayload, group: InvocationPayloadJson, message: string): Promise<void> {
  const storage = await storageFor(payload.storage);
  await Promise.all(
    group.calls.map((call) => {
      const error = { kind: "lost" as const, name: "RemoteInvokeError", message: `the remote invoker could not invoke the call: ${message}` };
      const status = failedStatus(payload, call, error, `remote-invoker-${process.env["__OW_ACTIVATION_ID"] ?? process.pid}`);
      return persistStatus(storage, payload, status);
    }),
  );
}

/** Split the job's calls into the payloads of its activations. */
function groupsOf(json: InvocationPayloadJson, callsPerActivation: number): InvocationPayloadJson[] {
  const groups: InvocationPayloadJson[] = [];
  for (let i = 0; i < json.calls.length; i += callsPerActivation) {
    groups.push({ ...json, calls: json.calls.slice(i, i + callsPerActivation) });
  }
  return groups;
}

/**
 * Invoke every call of the job, returning once all activations were accepted (or given up on).
 * @param request - the remote-invoke request (its payload already checked by the caller)
 * @param payload - the decoded payload (for the storage reference of failure statuses)
 * @param options - the invoker and backoff (defaults for the platform)
 * @returns counts of activations, throttling and calls that could not be invoked
 */
export async function fanOut(request: RemoteInvokeRequest & { payload: InvocationPayloadJson }, payload: InvocationPayload, options: FanOutOptions = {}): Promise<FanOutSummary> {
  const o = { ...DEFAULTS, ...options };
  const invoke = options.invoke ?? openwhiskInvoker(request.platform);
  const deadline = platformDeadlineMs();
  const giveUpMs = deadline !== undefined ? deadline - o.deadlineMarginMs : Date.now() + NO_DEADLINE_RETRY_MS;
  const groups = groupsOf(request.payload, Math.max(1, Math.floor(request.callsPerActivation)));
  const summary: FanOutSummary = { calls: request.payload.calls.length, activations: 0, throttled: 0, failedCallIds: [] };
  const ids: Array<string | null> = groups.map(() => null);
  let next = 0;
  const lane = async (): Promise<void> => {
    for (let index = next++, group = groups[index]; group !== undefined; index = next++, group = groups[index]) {
      try {
        ids[index] = await invokeGroup(invoke, group, o, giveUpMs, summary);
        summary.activations++;
      } catch (err) {
        summary.failedCallIds.push(...group.calls.map((c) => c.callId));
        await reportNotInvoked(payload, group, messageOf(err)).catch((reportErr: unknown) => {
          // Nothing more to do here: the client's deadline will end these calls.
          process.stderr.write(`tswren remote invoker: failed statuses could not be written: ${messageOf(reportErr)}\n`);
        });
      }
    }
  };
  const lanes = Math.max(1, Math.min(groups.length, Math.floor(request.concurrency)));
  await Promise.all(Array.from({ length: lanes }, lane));
  summary.failedCallIds.sort();
  if (ids.length <= MAX_LISTED_ACTIVATIONS) summary.activationIds = ids;
  return summary;
}
