/** Test helpers: futures of a job driven through their life cycle by the test (no workers). */
import { ResponseFuture } from "../../kernel-lib/src/future.js";
import { StatsTable } from "../../kernel-lib/src/job/stats-table.js";
import { PROTOCOL_VERSION, type CallStats, type CallStatus } from "../../kernel-lib/src/protocol.js";

/** Futures of one job created at `createMs`, all still `new`. */
export function jobFutures(jobId: string, calls: number, createMs = Date.now(), executorId = "abc123-0"): ResponseFuture[] {
  const table = new StatsTable(calls);
  return Array.from({ length: calls }, (_, index) => {
    table.set(index, "hostJobCreateMs", createMs);
    return new ResponseFuture({ executorId, jobId, index }, table);
  });
}

/**
 * End a future as a worker's status would, with the given worker-side stats.
 * @param ok - success (value `index`) or a remote exception
 */
export function endFuture(f: ResponseFuture, ok: boolean, stats: Partial<CallStats> = {}, hostStatusDoneMs = Date.now()): void {
  const status: CallStatus = {
    protocolVersion: PROTOCOL_VERSION,
    executorId: f.executorId,
    jobId: f.jobId,
    callId: f.callId,
    attempt: 1,
    ok,
    ...(ok ? {} : { error: { kind: "exception", name: "Error", message: "boom" } }),
    stats: { hostJobCreateMs: 0, hostSubmitMs: 0, ...stats },
    logs: "",
    workerId: "w1",
    runtime: { tswrenVersion: "test", nodeVersion: process.version },
  };
  f.resolveWith(status, hostStatusDoneMs, ok ? f.index : undefined);
}
