/** Turns the way a container ended into the error of the call it was running. */
import type { RemoteErrorInfo } from "../../protocol.js";
import type { ContainerEnd, DockerContainer } from "./container.js";

const HEAP_OOM = /heap out of memory|Reached heap limit|Allocation failed/i;
/** Exit code of a process killed by SIGKILL (128 + 9): the OOM killer, `docker kill`, ... */
const SIGKILL_EXIT = 137;

function stderrLines(container: DockerContainer): string {
  const tail = container.stderrTail.trim().split("\n").slice(-5).join("\n");
  return tail ? `; its last stderr lines:\n${tail}` : "";
}

/** The error of the call that was running when `container` ended as `end` says. */
export function describeContainerEnd(container: DockerContainer, end: ContainerEnd): RemoteErrorInfo {
  const reason = container.killReason;
  const who = `container ${container.name}`;
  if (reason?.kind === "timeout") {
    return {
      kind: "timeout",
      name: "TimeoutError",
      message: `the call ran longer than its timeout of ${reason.limitMs / 1000} s and its ${who} was removed; raise \`timeout\` or split the work`,
    };
  }
  if (end.oomKilled || HEAP_OOM.test(container.stderrTail)) {
    return {
      kind: "oom",
      name: "OutOfMemoryError",
      message: `the call ran out of memory: its ${who} exceeded its memory limit of ${container.spec.memoryMb} MB (runtimeMemory / docker.runtime_memory)${end.oomKilled ? " and the engine killed it (OOMKilled, exit 137)" : ""}; raise \`runtimeMemory\` or process less data per call`,
    };
  }
  if (reason?.kind === "cancelled") return { kind: "lost", name: "CallCancelled", message: `the call was cancelled and its ${who} was removed` };
  if (reason?.kind === "stall") return { kind: "lost", name: "WorkerStalled", message: `${who} did not start its runtime or stopped answering${stderrLines(container)}` };
  if (end.vanished) return { kind: "crash", name: "ContainerRemoved", message: `${who} was removed from outside tswren while the call ran` };
  if (end.exitCode === SIGKILL_EXIT) {
    return { kind: "crash", name: "ContainerKilled", message: `${who} was killed (SIGKILL, exit 137, not by its memory limit) while the call ran, e.g. by \`docker kill\`${stderrLines(container)}` };
  }
  const engine = end.engineError ? ` (engine: ${end.engineError})` : "";
  return {
    kind: end.exitCode !== null && end.exitCode > 128 ? "crash" : "exit",
    name: "WorkerDied",
    message: `the runtime in ${who} exited with code ${end.exitCode ?? "?"}${engine}${stderrLines(container)}`,
  };
}
