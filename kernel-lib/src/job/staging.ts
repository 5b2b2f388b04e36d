/** Storage steps of a job's submission: checking a content-addressed upload, staging a payload. */
import { createHash } from "node:crypto";
import type { StagedPayload } from "../compute/backend.js";
import { ErrorCodes, TswrenError } from "../errors.js";
import type { Backends } from "../executor-backends.js";
import { encodePayload, type CallSpec, type InvocationPayload } from "../protocol.js";
import * as keys from "../storage/keys.js";

/**
 * True when an object uploaded earlier is still stored (a HEAD).
 * @throws the storage's error for anything but a missing key
 */
export async function stillStored(b: Backends, key: string): Promise<boolean> {
  try {
    await b.storage.head(b.storageRef.bucket, key);
    return true;
  } catch (err) {
    if (err instanceof TswrenError && err.code === ErrorCodes.NO_SUCH_KEY) return false;
    throw err;
  }
}

/**
 * Store a remote-invoker job's payload while the job is created, so that submitting it is one
 * small request whatever the number of calls. No credential is written: the storage config and
 * the broker URL are left out (they travel in the signed request; `callerConfig` holds no secret),
 * and the request carries the staged text's SHA-256 so a changed object is refused.
 * @returns where the payload is staged, for the invoke request
 */
export async function stagePayload(b: Backends, base: Omit<InvocationPayload, "calls" | "hostSubmitMs">, calls: CallSpec[], executorId: string): Promise<StagedPayload> {
  const storage = { ...b.storageRef, config: {} };
  const amqp = base.amqp !== undefined ? { amqp: { ...base.amqp, url: "" } } : {};
  const json = JSON.stringify(encodePayload({ ...base, storage, ...amqp, calls, hostSubmitMs: 0, ...(b.poller !== null ? { startMarkers: true } : {}) }));
  const key = keys.remotePayloadKey(b.storageRef.prefix, executorId, base.jobId);
  await b.storage.put(b.storageRef.bucket, key, json);
  const sha256 = createHash("sha256").update(json).digest("hex");
  return { storage: { ...b.storageRef, config: {} }, key, sha256 };
}
