/**
 * The OpenWhisk action (kind `nodejs:20`): `main(params)` is called by the platform's action
 * proxy with the activation's parameters, which are one of
 *
 * - an `InvocationPayloadJson`: its calls run one after another in this activation (each
 *   writes its `status.json`; with `startMarkers` each first writes its `start` key). Result:
 *   `{ tswrenVersion, nodeVersion, calls: [{ callId, ok }] }`.
 * - a {@link RemoteInvokeRequest} (`kind: "remote-invoke"`): this activation invokes the job's
 *   calls itself, from inside the platform. Result: `{ tswrenVersion, nodeVersion, remoteInvoke:
 *   { calls, activations, throttled, failedCallIds, activationIds } }`, returned once every
 *   activation was accepted (`activationIds`: the activation of each slice of calls, which the
 *   client watches for dead ones).
 *
 * Both arrive as a signed request (`SignedRequest`, see kernel-lib/src/security): the signature is
 * checked against `$TSWREN_SIGNING_KEY` (an `init` parameter set at deploy time) before anything
 * is read; a refused request is the result `{ error, statusCode: 401 }` and nothing ran or was
 * written. A staged remote-invoke payload is checked against the SHA-256 in the signed request
 * before it is used, and gets its credentials back from the request.
 *
 * A protocol problem (not a payload, another protocol or tswren version) is the result
 * `{ error: "..." }`, which OpenWhisk records as an application error; a version mismatch names
 * both versions and `tswren runtime deploy`. Built by `build.mjs` into one CommonJS file with
 * everything inside (S3 client, tswren internals, `openwhisk` client) and packed as
 * `openwhisk-action.zip`.
 */
import { PROTOCOL_VERSION } from "tswren/internal";
import type { InvocationPayloadJson, RemoteInvokeRequest } from "tswren/internal";
import { installFaultGuard } from "../fault-guard.js";
import { checkedPayload, runPayload, runtimeInfo, type RuntimeInfo } from "../invocation.js";
import { fanOut, type FanOutSummary } from "../remote-invoker.js";
import { verifyRequest } from "../request-checks.js";
import { remoteInvokePayload } from "../staged-payload.js";

/** Result of an activation that ran calls. */
export interface RunResult extends RuntimeInfo {
  calls: Array<{ callId: string; ok: boolean }>;
}

/** Result of a remote-invoke activation. */
export interface RemoteInvokeResult extends RuntimeInfo {
  remoteInvoke: FanOutSummary;
}

/** Result of an activation that could not do its work (an OpenWhisk application error). */
export interface ErrorResult {
  error: string;
  /** 401: the request was not signed with this deployment's key (nothing ran). */
  statusCode?: number;
}

/** What `main` returns. */
export type ActionResult = RunResult | RemoteInvokeResult | ErrorResult;

function isRemoteInvoke(params: unknown): params is RemoteInvokeRequest {
  return typeof params === "object" && params !== null && (params as { kind?: unknown }).kind === "remote-invoke";
}

function remoteInvokeProblem(request: RemoteInvokeRequest): string | null {
  const version: unknown = request.protocolVersion;
  if (version !== PROTOCOL_VERSION) return `the remote-invoke request has protocol version ${String(version)}, this runtime reads version ${PROTOCOL_VERSION}`;
  const p = request.platform as Partial<RemoteInvokeRequest["platform"]> | undefined;
  if (typeof p?.apihost !== "string" || typeof p.action !== "string") return "the remote-invoke request has no platform.apihost or platform.action";
  if (!(request.callsPerActivation >= 1) || !(request.concurrency >= 1)) {
    return "the remote-invoke request needs callsPerActivation >= 1 and concurrency >= 1";
  }
  return null;
}

async function remoteInvoke(request: RemoteInvokeRequest): Promise<ActionResult> {
  const json = await remoteInvokePayload(request);
  const read = checkedPayload(json);
  if (!read.ok) return { error: read.error, statusCode: read.statusCode };
  const problem = remoteInvokeProblem(request);
  if (problem !== null) return { error: `tswren runtime: ${problem}` };
  const summary = await fanOut({ ...request, payload: json as InvocationPayloadJson }, read.payload);
  return { ...runtimeInfo(), remoteInvoke: summary };
}

/**
 * The action's entry point.
 * @param params - the activation's parameters: an `InvocationPayloadJson` or a
 *   {@link RemoteInvokeRequest}; anything else is answered with `{ error }`
 * @returns the result object; `{ error }` for a protocol problem
 */
export async function main(params: unknown): Promise<ActionResult> {
  // Loaded into the action proxy's process: its calls' faults stay with them (`fault-guard.ts`).
  installFaultGuard();
  try {
    const verified = verifyRequest(params);
    if (!verified.ok) return { error: verified.error, statusCode: verified.statusCode };
    if (isRemoteInvoke(verified.json)) return await remoteInvoke(verified.json);
    const read = checkedPayload(verified.json);
    if (!read.ok) return { error: read.error, statusCode: read.statusCode };
    const workerId = `openwhisk-${process.env["__OW_ACTIVATION_ID"] ?? String(process.pid)}`;
    const statuses = await runPayload(read.payload, { workerId, passThroughLogs: true, endAtTimeout: true });
    return { ...runtimeInfo(), calls: statuses.map((s) => ({ callId: s.callId, ok: s.ok })) };
  } catch (err) {
    return { error: `tswren runtime: ${err instanceof Error ? err.message : String(err)}` };
  }
}
