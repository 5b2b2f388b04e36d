/**
 * `start` keys: written when a call is picked up, for clients that learn about calls from
 * storage (their deadlines then count from the real start).
 */
import { keys } from "tswren/internal";
import type { CallSpec, InvocationPayload, StorageBackend } from "tswren/internal";

/** The handler hook that writes each call's `start` key, when the payload asks for them. */
export function startMarkerHook(
  payload: InvocationPayload,
  workerId: string,
): ((call: CallSpec, storage: StorageBackend, workerStartMs: number) => Promise<void>) | undefined {
  if (payload.startMarkers !== true) return undefined;
  return async (call, storage, workerStartMs) => {
    const key = keys.startKey(payload.storage.prefix, payload.executorId, payload.jobId, call.callId);
    await storage.put(payload.storage.bucket, key, JSON.stringify({ callId: call.callId, attempt: call.attempt, workerId, workerStartMs }));
  };
}
