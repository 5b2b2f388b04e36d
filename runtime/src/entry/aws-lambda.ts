/**
 * The tswren function on AWS Lambda (managed runtime `nodejs20.x`, handler `index.handler`).
 * The event is one of
 *
 * - an `InvocationPayloadJson`: its calls run one after another in a watched thread
 *   (`aws-lambda-calls.ts`: a call that times out, runs out of memory or crashes still gets its
 *   status with the cause). Result: `{ tswrenVersion, nodeVersion, calls: [{ callId, ok }] }`.
 * - a `LambdaPayloadRef` (`kind: "payload-ref"`): the same, for a payload over the 256 KB limit
 *   of asynchronous invocations that the client stored as JSON.
 * - a `RemoteInvokeRequest` (`kind: "remote-invoke"`): this invocation invokes the job's calls
 *   itself with `@aws-sdk/client-lambda` (`Event` invocations of the same function; the
 *   function's role needs `lambda:InvokeFunction` on itself). Result: `{ ..., remoteInvoke }`.
 *
 * Every event is a signed request (`SignedRequest`): its signature is checked against
 * `$TSWREN_SIGNING_KEY` (set in the function's environment at deploy time) before anything is
 * read; an unsigned, forged or expired event throws (Lambda records a function error) and nothing
 * ran or was written. Then every storage path it names must be the job's own (as on OpenWhisk).
 *
 * A protocol problem (not a payload, another tswren version) throws, so Lambda records a
 * function error; when the event still names its calls and storage, each call first gets a
 * failed status saying so (an asynchronous invocation has nobody else to tell).
 */
import { LambdaClient, InvokeCommand } from "@aws-sdk/client-lambda";
import { asError, ErrorCodes, EVENT_SIGNATURE_TTL_MS, failedStatus, isPayloadRef, runtimeSigningKeys, signPayload, TswrenError } from "tswren/internal";
import type { InvocationPayload, InvocationPayloadJson, RemoteInvokeRequest } from "tswren/internal";
import { persistStatus } from "../handler.js";
import { checkedPayload, runtimeInfo, type RuntimeInfo } from "../invocation.js";
import { verifyRequest } from "../request-checks.js";
import { fanOut, type FanOutSummary, type InvokeActivation } from "../remote-invoker.js";
import { storageFor } from "../storage-cache.js";
import { remoteInvokePayload } from "../staged-payload.js";
import { readStagedPayload } from "./aws-lambda-staged.js";
import { runWatched, type CallOutcome } from "./aws-lambda-calls.js";
import type { LambdaContext } from "./aws-lambda-ric.js";

/** Result of an invocation that ran calls. */
export interface LambdaRunResult extends RuntimeInfo {
  calls: CallOutcome[];
}

/** Result of a remote-invoke invocation. */
export interface LambdaRemoteInvokeResult extends RuntimeInfo {
  remoteInvoke: FanOutSummary;
}

function isRemoteInvoke(event: unknown): event is RemoteInvokeRequest {
  return typeof event === "object" && event !== null && (event as { kind?: unknown }).kind === "remote-invoke";
}

/** The error thrown for a refused event (unsigned, forged, expired, out of scope): nothing was read or written. */
function refusal(message: string): Error {
  const err = new TswrenError(ErrorCodes.UNAUTHORIZED, message);
  err.name = "TswrenUnauthorized";
  return err;
}

/** An error thrown for a protocol problem, after failing the event's calls when it names them. */
async function protocolFailure(event: unknown, message: string, workerId: string): Promise<Error> {
  const e = event as Partial<InvocationPayload> | null;
  if (e?.storage !== undefined && typeof e.executorId === "string" && typeof e.jobId === "string" && Array.isArray(e.calls)) {
    const job = { executorId: e.executorId, jobId: e.jobId, hostJobCreateMs: e.hostJobCreateMs ?? 0, hostSubmitMs: e.hostSubmitMs ?? 0 };
    const payload = { ...job, storage: e.storage } as InvocationPayload;
    const storage = await storageFor(e.storage);
    await Promise.all(
      e.calls.map((call) => persistStatus(storage, payload, failedStatus(job, call, { kind: "protocol", name: "ProtocolError", message }, workerId))),
    ).catch(() => undefined);
  }
  const err = new TswrenError(ErrorCodes.PROTOCOL, message);
  err.name = "TswrenProtocolError";
  return err;
}

/** The remote invoker's invoke: an `Event` invocation of this same function. */
function lambdaInvoker(platform: RemoteInvokeRequest["platform"]): InvokeActivation {
  const client = new LambdaClient({ region: platform.namespace, ...(platform.apihost !== "" ? { endpoint: platform.apihost } : {}), maxAttempts: 1 });
  const [key] = runtimeSigningKeys();
  if (key === undefined) throw new TswrenError(ErrorCodes.SIGNING_KEY, "the remote invoker has no signing key ($TSWREN_SIGNING_KEY)");
  return async (params) => {
    const signed = signPayload(JSON.stringify(params), key, { ttlMs: EVENT_SIGNATURE_TTL_MS });
    try {
      const out = await client.send(new InvokeCommand({ FunctionName: platform.action, InvocationType: "Event", Payload: Buffer.from(JSON.stringify(signed)) }));
      return out.$metadata.requestId ?? "";
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      throw Object.assign(new TswrenError(ErrorCodes.COMPUTE, asError(err).message), status !== undefined ? { statusCode: status } : {});
    }
  };
}

async function remoteInvoke(request: RemoteInvokeRequest, workerId: string): Promise<LambdaRemoteInvokeResult> {
  const withSubmit = await remoteInvokePayload(request);
  const read = checkedPayload(withSubmit);
  if (!read.ok) throw read.statusCode === 403 ? refusal(read.error) : await protocolFailure(withSubmit, read.error, workerId);
  if (typeof request.platform?.action !== "string" || !(request.callsPerActivation >= 1) || !(request.concurrency >= 1)) {
    throw await protocolFailure(withSubmit, "tswren runtime: the remote-invoke request needs platform.action, callsPerActivation >= 1 and concurrency >= 1", workerId);
  }
  const summary = await fanOut({ ...request, payload: withSubmit as InvocationPayloadJson }, read.payload, { invoke: lambdaInvoker(request.platform) });
  return { ...runtimeInfo(), remoteInvoke: summary };
}

/**
 * The Lambda handler.
 * @param event - a signed request holding an invocation payload, a staged payload reference or a remote-invoke request
 * @param context - Lambda's context (request id, remaining time)
 * @returns what ran and how it ended
 * @throws Error for a refused event or a protocol problem (Lambda records a function error)
 */
export async function handler(event: unknown, context: LambdaContext): Promise<LambdaRunResult | LambdaRemoteInvokeResult> {
  const workerId = `aws-lambda-${context.awsRequestId}`;
  const verified = verifyRequest(event);
  if (!verified.ok) throw refusal(verified.error);
  if (isRemoteInvoke(verified.json)) return remoteInvoke(verified.json, workerId);
  const json = isPayloadRef(verified.json) ? await readStagedPayload(verified.json) : verified.json;
  const read = checkedPayload(json);
  // Out of scope (403): nothing is written anywhere; other problems fail the named calls first.
  if (!read.ok) throw read.statusCode === 403 ? refusal(read.error) : await protocolFailure(json, read.error, workerId);
  const calls = await runWatched(json as InvocationPayloadJson, read.payload, workerId, () => context.getRemainingTimeInMillis());
  return { ...runtimeInfo(), calls };
}
