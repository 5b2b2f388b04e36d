/** When a silent call counts as lost: the deadlines the storage monitor enforces. */
import type { ResponseFuture } from "../future.js";
import type { WatchedCall } from "./storage-poll.js";

/** Time after a call's own timeout before a silent call counts as lost. */
const LOST_GRACE_MS = 10_000;
/**
 * Allowance for an accepted activation to start (cold start). OpenWhisk answers 429 instead of
 * queueing, so an accepted activation starts within seconds or never.
 */
const START_ALLOWANCE_MS = 10_000;

/**
 * A pending call as the storage monitor watches it, with its deadline: its start plus its
 * timeout when it started, else its submission plus the time its invocation's calls may take.
 * @param f - the call's future
 * @param timeoutMs - the job's per-call timeout
 * @param callsPerInvocation - calls one invocation runs one after another
 */
export function watchedCall(f: ResponseFuture, timeoutMs: number, callsPerInvocation: number): WatchedCall {
  const workerStartMs = f.stat("workerStartMs");
  const started = workerStartMs !== undefined;
  const deadlineMs = started
    ? workerStartMs + timeoutMs + LOST_GRACE_MS
    : (f.stat("hostSubmitMs") ?? 0) + timeoutMs * callsPerInvocation + START_ALLOWANCE_MS + LOST_GRACE_MS;
  return { callId: f.callId, attempt: f.attempt, deadlineMs, started };
}
