/**
 * What the network entry points (OpenWhisk action, Knative HTTP server) share: checking a
 * received payload (shape, protocol and tswren versions) and running its calls one after another,
 * with `start` keys when the payload asks for them.
 */
import { PROTOCOL_VERSION, TSWREN_VERSION, checkRuntimeVersion, decodePayload, failedStatus, publishStatus } from "tswren/internal";
import type { CallSpec, CallStatus, InvocationPayload } from "tswren/internal";
import { runCall } from "./handler.js";
import { runCallBounded } from "./call-deadline.js";
import { startMarkerHook } from "./start-marker.js";
import { payloadScopeProblem, verifyRequest } from "./request-checks.js";

/** The versions a runtime reports in every answer. */
export interface RuntimeInfo {
  tswrenVersion: string;
  nodeVersion: string;
}

/** This runtime's tswren and Node versions. */
export function runtimeInfo(): RuntimeInfo {
  return { tswrenVersion: TSWREN_VERSION, nodeVersion: process.version };
}

/** A received payload: decoded, or the protocol problem to answer with. */
export type ReceivedPayload =
  | { ok: true; payload: InvocationPayload }
  /** `versionMismatch`: the payload is from a client of another tswren version. */
  | { ok: false; error: string; versionMismatch: boolean };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function shapeProblem(p: Record<string, unknown>): string | null {
  for (const field of ["executorId", "jobId", "funcKey"] as const) {
    if (typeof p[field] !== "string") return `the payload has no ${field}`;
  }
  const storage = p["storage"];
  if (!isObject(storage) || typeof storage["backend"] !== "string" || typeof storage["bucket"] !== "string") {
    return "the payload has no storage reference (storage.backend, storage.bucket)";
  }
  if (!Array.isArray(p["calls"]) || p["calls"].length === 0) return "the payload has no calls";
  const bad = (p["calls"] as unknown[]).findIndex((c) => !isObject(c) || typeof c["callId"] !== "string" || !isObject(c["input"]));
  return bad === -1 ? null : `calls[${bad}] is not a call (callId, input)`;
}

/**
 * Check and decode a payload received as JSON. Only data is read from it.
 * @param json - the parsed request body or action parameters
 * @returns the payload, or an error message naming the problem (for a version mismatch: both
 *   versions and the deploy command)
 */
export function readPayload(json: unknown): ReceivedPayload {
  const fail = (problem: string): ReceivedPayload => ({ ok: false, error: `tswren runtime ${TSWREN_VERSION}: ${problem}`, versionMismatch: false });
  if (!isObject(json)) return fail("the request is not a JSON object; expected a tswren invocation payload");
  if (json["protocolVersion"] === undefined && json["tswrenVersion"] === undefined) {
    return fail("the request is not a tswren invocation payload (it has no protocolVersion)");
  }
  const mismatch = checkRuntimeVersion(json["tswrenVersion"], "runtime");
  if (mismatch !== null) return { ok: false, error: mismatch, versionMismatch: true };
  if (json["protocolVersion"] !== PROTOCOL_VERSION) {
    return fail(`the payload has protocol version ${String(json["protocolVersion"])}, this runtime reads version ${PROTOCOL_VERSION}`);
  }
  const problem = shapeProblem(json);
  if (problem !== null) return fail(problem);
  try {
    return { ok: true, payload: decodePayload(json) };
  } catch (err) {
    return fail(err instanceof Error ? err.message : String(err));
  }
}

/** A received signed request: its payload, or the refusal (HTTP status and message) to answer with. */
export type SignedPayload = { ok: true; payload: InvocationPayload } | { ok: false; statusCode: 400 | 401 | 403 | 409; error: string };

/**
 * What every network entry point does with a request before anything else: verify its signature
 * (401, nothing read or written otherwise), parse and check the payload (400 / 409), and check that
 * every storage path in it is the job's own, inside the deployment's allowed storage (403).
 * @param received - the parsed request body or action parameters
 */
export function readSignedPayload(received: unknown): SignedPayload {
  const verified = verifyRequest(received);
  if (!verified.ok) return verified;
  return checkedPayload(verified.json);
}

/**
 * Check an already verified payload's JSON (shape, versions, storage scope).
 * @param json - the payload JSON from a verified request
 */
export function checkedPayload(json: unknown): SignedPayload {
  const read = readPayload(json);
  if (!read.ok) return { ok: false, statusCode: read.versionMismatch ? 409 : 400, error: read.error };
  const problem = payloadScopeProblem(read.payload, true);
  if (problem !== null) return { ok: false, statusCode: 403, error: `tswren runtime: refused: ${problem}` };
  return read;
}

/** How an entry point runs a payload's calls. */
export interface RunOptions {
  /** Identifies the worker / activation in statuses. */
  workerId: string;
  /** Also write the calls' logs to the real stdout/stderr (the platform's logs). */
  passThroughLogs: boolean;
  /** End a call still running past its timeout as a `timeout` (long-lived processes: `call-deadline.ts`). */
  endAtTimeout?: boolean;
}

/** A status for a call the handler could not even start (its storage could not be opened). */
function unstartedStatus(payload: InvocationPayload, call: CallSpec, workerId: string, err: unknown): CallStatus {
  const message = `the call could not be started: ${err instanceof Error ? err.message : String(err)}`;
  return failedStatus(payload, call, { kind: "storage", name: "StorageError", message }, workerId);
}

/**
 * Run the payload's calls one after another; each writes its status to storage.
 * @param payload - a decoded payload
 * @param options - worker id and log handling
 * @returns the calls' statuses, in call order (also for calls whose status could not be stored)
 */
export async function runPayload(payload: InvocationPayload, options: RunOptions): Promise<CallStatus[]> {
  const { workerId } = options;
  const beforeCall = startMarkerHook(payload, workerId);
  const statuses: CallStatus[] = [];
  for (const call of payload.calls) {
    try {
      const hooks = { workerId, passThroughLogs: options.passThroughLogs, beforeCall };
      statuses.push(await (options.endAtTimeout === true ? runCallBounded(payload, call, hooks) : runCall(payload, call, hooks)));
    } catch (err) {
      const status = unstartedStatus(payload, call, workerId, err);
      await publishStatus(payload, status);
      statuses.push(status);
    }
  }
  return statuses;
}
