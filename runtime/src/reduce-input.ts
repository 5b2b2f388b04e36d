/**
 * A reduce call's input: it waits (remotely, in the worker) for the statuses of the map calls it
 * combines, then reads their results in map order. A map call that failed for good fails the
 * reducer with that call's error.
 */
import { ErrorCodes, TswrenError, deserializeValue, readJobStatuses } from "tswren/internal";
import type { CallStatus, ReduceInput, StorageBackend, StorageRef } from "tswren/internal";

const FIRST_POLL_MS = 10;
const MAX_POLL_MS = 500;

function isFinal(status: CallStatus, maxAttempts: number): boolean {
  return status.ok || status.attempt >= maxAttempts;
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
  const wanted = new Set(input.mapCallIds);
  // Statuses come as `status.json` per call or in batches (localhost): each is read once.
  const skips = { readBatches: new Set<string>(), skipCall: (callId: string) => found.has(callId) };
  // Statuses without the map job's nonce (stale or forged) are not waited for.
  const job = { bucket: ref.bucket, prefix: ref.prefix, executorId, jobId: input.mapJobId, jobNonce: input.mapJobNonce };
  let delay = FIRST_POLL_MS;
  for (;;) {
    for (const [callId, status] of await readJobStatuses(storage, job, skips)) {
      if (wanted.has(callId) && !found.has(callId) && isFinal(status, input.maxAttempts)) found.set(callId, status);
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
