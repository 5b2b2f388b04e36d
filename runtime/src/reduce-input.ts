/**
 * A reduce call's input: it waits (remotely, in the worker) for the statuses of the map calls it
 * combines, then reads their results in map order. A map call that failed for good fails the
 * reducer with that call's error.
 */
import { ErrorCodes, TswrenError, decodeStatus, deserializeValue, keys } from "tswren/internal";
import type { CallStatus, ReduceInput, StorageBackend, StorageRef } from "tswren/internal";

const FIRST_POLL_MS = 10;
const MAX_POLL_MS = 500;

function isFinal(status: CallStatus, maxAttempts: number): boolean {
  return status.ok || status.attempt >= maxAttempts;
}

async function readStatus(storage: StorageBackend, ref: StorageRef, key: string): Promise<CallStatus> {
  return decodeStatus((await storage.get(ref.bucket, key)).toString("utf8"));
}

/** Wait until every map call of `input` has a final status; returns them in map order. */
async function waitForStatuses(
  storage: StorageBackend,
  ref: StorageRef,
  executorId: string,
  input: ReduceInput,
  signal: AbortSignal,
): Promise<CallStatus[]> {
  const found = new Map<string, CallStatus>();
  const prefix = keys.jobPrefix(ref.prefix, executorId, input.mapJobId);
  let delay = FIRST_POLL_MS;
  for (;;) {
    const present = new Set((await storage.list(ref.bucket, prefix)).map((o) => o.key));
    for (const callId of input.mapCallIds) {
      if (found.has(callId)) continue;
      const key = keys.statusKey(ref.prefix, executorId, input.mapJobId, callId);
      if (!present.has(key)) continue;
      const status = await readStatus(storage, ref, key);
      // A status of another job under the key (stale or forged) is not this map call's.
      if (input.mapJobNonce !== undefined && status.jobNonce !== input.mapJobNonce) continue;
      if (isFinal(status, input.maxAttempts)) found.set(callId, status);
    }
    if (found.size === input.mapCallIds.length) return input.mapCallIds.map((id) => found.get(id) as CallStatus);
    if (signal.aborted) throw new TswrenError(ErrorCodes.CANCELLED, "reducer stopped while waiting for map results");
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(MAX_POLL_MS, delay * 2);
  }
}

/** The map results a reducer receives, in map order. */
export async function readReduceInput(
  storage: StorageBackend,
  ref: StorageRef,
  executorId: string,
  input: ReduceInput,
  signal: AbortSignal,
): Promise<unknown[]> {
  const statuses = await waitForStatuses(storage, ref, executorId, input, signal);
  return Promise.all(
    statuses.map(async (status) => {
      if (!status.ok || status.result === undefined) {
        const e = status.error;
        throw new TswrenError(ErrorCodes.REMOTE_FUNCTION, `map call ${input.mapJobId}/${status.callId} failed, so the reducer cannot run: ${e?.name ?? "Error"}: ${e?.message ?? "unknown"}`);
      }
      const bytes = status.result.kind === "inline" ? status.result.bytes : await storage.get(ref.bucket, status.result.key);
      return deserializeValue(bytes);
    }),
  );
}
