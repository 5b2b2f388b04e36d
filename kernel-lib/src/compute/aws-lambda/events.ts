/**
 * What the client sends to the tswren Lambda function, besides an `InvocationPayloadJson` (the
 * calls inline) and a `RemoteInvokeRequest`: a reference to a payload staged in storage, for
 * payloads over Lambda's 256 KB limit of asynchronous invocations. Shared by the client
 * (`AwsLambdaCompute`) and the runtime's handler.
 *
 * In a `RemoteInvokeRequest` sent to Lambda, `platform` reads: `apihost` = the Lambda endpoint
 * URL (empty for AWS's own endpoint of the region), `namespace` = the region, `action` = the
 * function name.
 */
import type { StorageRef } from "../../protocol.js";
import { PROTOCOL_VERSION } from "../../protocol.js";
import { jobPrefix } from "../../storage/keys.js";

/** Lambda's limit on the payload of an asynchronous (`Event`) invocation, bytes. */
export const ASYNC_PAYLOAD_LIMIT_BYTES = 256 * 1024;

/** How long a signed Lambda event stays valid: Lambda keeps (and retries) events up to 6 hours. */
export const EVENT_SIGNATURE_TTL_MS = 6 * 3600_000 + 15 * 60_000;

/**
 * A payload too large for an asynchronous invocation, stored as JSON at `key`. The stored JSON
 * holds no credentials (`storage.config` empty, `amqp.url` empty): they travel in this (signed)
 * event as `credentials`, and the runtime refuses stored bytes whose SHA-256 is not `sha256`.
 */
export interface LambdaPayloadRef {
  protocolVersion: typeof PROTOCOL_VERSION;
  kind: "payload-ref";
  /** Where the payload is (`config` empty: the credentials are in `credentials`). */
  storage: StorageRef;
  key: string;
  /** SHA-256 (hex) of the stored text. */
  sha256: string;
  /** Credentials removed from the stored payload. */
  credentials: { storageConfig: Record<string, unknown>; amqpUrl?: string };
}

/**
 * True when an event is a {@link LambdaPayloadRef}.
 * @param event - the Lambda event as received
 */
export function isPayloadRef(event: unknown): event is LambdaPayloadRef {
  if (typeof event !== "object" || event === null) return false;
  const e = event as Partial<LambdaPayloadRef>;
  return e.kind === "payload-ref" && typeof e.key === "string" && typeof e.storage === "object" && e.storage !== null && typeof e.sha256 === "string";
}

/**
 * Storage key of a staged payload: beside the job's other keys.
 * @param prefix - the storage prefix
 * @param executorId - the executor
 * @param jobId - the job
 * @param firstCallId - the first call the payload carries
 */
export function stagedPayloadKey(prefix: string, executorId: string, jobId: string, firstCallId: string): string {
  return `${jobPrefix(prefix, executorId, jobId)}lambda-payload-${firstCallId}.json`;
}

/** The file name pattern of {@link stagedPayloadKey} (below the job's prefix). */
export const STAGED_PAYLOAD_NAME = /^lambda-payload-\d{5,9}\.json$/;
