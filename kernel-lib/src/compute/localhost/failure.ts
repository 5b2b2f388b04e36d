/** Turns the way a worker process ended into the error of the call it was running. */
import type { RemoteErrorInfo } from "../../protocol.js";
import type { WorkerProcess } from "./worker-process.js";

const HEAP_OOM = /heap out of memory|Reached heap limit|Allocation failed/i;

/** The error of the call that was running when `worker` ended with `code` / `signal`. */
export function describeWorkerEnd(worker: WorkerProcess, code: number | null, signal: NodeJS.Signals | null): RemoteErrorInfo {
  const reason = worker.killReason;
  const pid = worker.pid;
  if (reason?.kind === "timeout") {
    return {
      kind: "timeout",
      name: "TimeoutError",
      message: `the call ran longer than its timeout of ${reason.limitMs / 1000} s and its worker (pid ${pid}) was stopped; raise \`timeout\` or split the work`,
    };
  }
  if (reason?.kind === "oom" || HEAP_OOM.test(worker.stderrTail)) {
    const rss = reason?.kind === "oom" ? ` (resident memory reached ${Math.round(reason.rssMb)} MB)` : "";
    return {
      kind: "oom",
      name: "OutOfMemoryError",
      message: `the call ran out of memory: its worker (pid ${pid}) exceeded runtimeMemory ${worker.memoryMb} MB${rss}; raise \`runtimeMemory\` or process less data per call`,
    };
  }
  if (reason?.kind === "cancelled") {
    return { kind: "lost", name: "CallCancelled", message: `the call was cancelled and its worker (pid ${pid}) was stopped` };
  }
  if (reason?.kind === "stall") {
    return { kind: "lost", name: "WorkerStalled", message: `worker pid ${pid} stopped answering before the call started` };
  }
  const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code ?? "?"}`;
  const tail = worker.stderrTail.trim().split("\n").slice(-5).join("\n");
  return {
    kind: signal !== null ? "crash" : "exit",
    name: "WorkerDied",
    message: `the worker running the call (pid ${pid}) ${how}${tail ? `; its last stderr lines:\n${tail}` : ""}`,
  };
}
