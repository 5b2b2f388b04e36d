/**
 * Stale data is never taken for a new result: every job carries a random nonce (in its signed
 * payload) that every status and start message of the job repeats. Monitors drop a report whose
 * nonce is not the watched job's before anything else looks at it, so a forged or left-over
 * `status.json` (an earlier executor with the same ids, a replaced object in the bucket, a
 * message published by someone else) neither resolves a future nor uses up the call's one report.
 */
import type { MonitorSink } from "./monitor.js";

/**
 * True when a report carries the nonce of the job the sink watches.
 * @param sink - the executor (knows each job's nonce)
 * @param jobId - the job the report names
 * @param nonce - the nonce the report carries (absent in forged or foreign reports)
 */
export function isCurrentJob(sink: Pick<MonitorSink, "jobNonce">, jobId: string, nonce: string | undefined): boolean {
  const expected = sink.jobNonce(jobId);
  return expected !== undefined && nonce === expected;
}
