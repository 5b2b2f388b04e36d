/**
 * A late attempt never overwrites a later attempt's record. Each attempt writes its large result
 * under its own key (`output` for the first, `output.<attempt>` after it, see `keys.outputKey`),
 * and a call's `status.json` is written only when no status of a later attempt of the same job
 * (same nonce) is there: an attempt that was given up for lost and finishes after its retry
 * leaves the retry's status alone. A status of another job under the key (stale or forged) is
 * overwritten.
 */
import { ErrorCodes, TswrenError } from "../errors.js";
import { decodeStatus, encodeStatus, type CallStatus } from "../protocol.js";
import type { StorageBackend } from "./backend.js";

/** The status stored under `key`, or null when there is none (or it is not a status). */
async function storedStatus(storage: StorageBackend, bucket: string, key: string): Promise<CallStatus | null> {
  try {
    return decodeStatus((await storage.get(bucket, key)).toString("utf8"));
  } catch (err) {
    if (err instanceof TswrenError && err.code === ErrorCodes.NO_SUCH_KEY) return null;
    if (err instanceof SyntaxError || (err instanceof TswrenError && err.code === ErrorCodes.PROTOCOL)) return null;
    throw err;
  }
}

/**
 * True when `existing` is a status of a later attempt of the same job's call than `status`.
 * @param existing - what the key holds
 * @param status - what would be written
 */
export function supersedes(existing: CallStatus, status: CallStatus): boolean {
  return existing.jobNonce === status.jobNonce && existing.jobId === status.jobId && existing.callId === status.callId && existing.attempt > status.attempt;
}

/**
 * Write a call's status unless a later attempt's status is already stored under `key`.
 * @param maxAttempts - attempts the call may take (the payload's `maxAttempts`): when the status
 *   is of the last one, no later attempt can exist and the key is written without a look
 * @returns true when written, false when a later attempt had written first (nothing written)
 * @throws what the storage throws
 */
export async function writeStatusUnlessSuperseded(storage: StorageBackend, bucket: string, key: string, status: CallStatus, maxAttempts?: number): Promise<boolean> {
  if (maxAttempts !== undefined && status.attempt >= maxAttempts) {
    await storage.put(bucket, key, encodeStatus(status));
    return true;
  }
  const existing = await storedStatus(storage, bucket, key);
  if (existing !== null && supersedes(existing, status)) return false;
  await storage.put(bucket, key, encodeStatus(status));
  return true;
}
