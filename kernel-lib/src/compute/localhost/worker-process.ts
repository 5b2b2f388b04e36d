/**
 * One child process of the localhost pool: spawns the runtime's local worker entry with a V8 heap
 * limit, tracks the calls sent to it, and reports how it ended.
 */
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import type { HostMessage, InvocationPayload, WorkerMessage } from "../../protocol.js";
import { PoolSlot, type KillReason, type QueuedCall, type RefHandle } from "../pool-slot.js";
const PAGE_BYTES = 4096;

/**
 * The old generation a worker starts with (its first full-GC threshold). V8 counts the byte
 * buffers of socket reads against it, so with the default (a few MB) a call streaming data runs a
 * mark-compact every ~20 MB read: 135 full GCs, ~0.7 s of a 2-worker 1 GiB word count. A quarter
 * of the call's memory (at most 128 MB) makes that one; the buffers still die young and are freed
 * by scavenges, so the worker's RSS does not grow with it.
 */
function initialOldSpaceMb(memoryMb: number): number {
  return Math.min(128, Math.max(16, Math.floor(memoryMb / 4)));
}

/** Wrapper around one forked worker process. */
export class WorkerProcess extends PoolSlot {
  readonly child: ChildProcess;
  readonly memoryMb: number;
  /** Workers of one memory size are interchangeable. */
  readonly specKey: string;
  runningSinceMs = 0;

  /**
   * @param entry - path of the runtime's local worker script
   * @param memoryMb - V8 heap limit and RSS limit of this worker
   * @param onMessage - called for each message from the worker
   * @param onExit - called once when the process is gone
   */
  constructor(
    entry: string,
    memoryMb: number,
    onMessage: (w: WorkerProcess, m: WorkerMessage) => void,
    onExit: (w: WorkerProcess, code: number | null, signal: NodeJS.Signals | null) => void,
  ) {
    super();
    this.memoryMb = memoryMb;
    this.specKey = String(memoryMb);
    this.child = fork(entry, [], {
      execArgv: [`--max-old-space-size=${memoryMb}`, `--initial-old-space-size=${initialOldSpaceMb(memoryMb)}`, ...(process.env["TSWREN_WORKER_PROF"] ? ["--cpu-prof", `--cpu-prof-dir=${process.env["TSWREN_WORKER_PROF"]}`] : [])],
      serialization: "advanced",
      // Its own process group: a terminal Ctrl-C or Jupyter's SIGINT to the kernel's group never
      // reaches a worker (the host stops workers itself; a worker exits when its IPC channel closes).
      detached: true,
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      env: { ...process.env, TSWREN_WORKER: "1" },
    });
    this.child.stderr?.setEncoding("utf8");
    this.child.stderr?.on("data", (chunk: string) => { this.appendStderr(chunk); });
    this.child.on("message", (m: WorkerMessage) => { onMessage(this, m); });
    this.child.on("error", () => undefined);
    this.child.once("close", (code: number | null, signal: NodeJS.Signals | null) => {
      this.exited = true;
      this.clearTimer();
      onExit(this, code, signal);
    });
    this.setActive(false);
  }

  /** Process id, for people and for statuses. */
  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Send calls (all of one invocation) to the worker. */
  send(payload: InvocationPayload, calls: QueuedCall[]): void {
    this.inflight.push(...calls);
    const message: HostMessage = { type: "invoke", payload: { ...payload, calls: calls.map((c) => c.call) } };
    this.child.send(message);
  }

  protected refHandles(): RefHandle[] {
    return [this.child, this.child.channel, this.child.stderr] as RefHandle[];
  }

  /** Resident memory in MB (Linux /proc), or 0 when unknown. */
  rssMb(): number {
    try {
      const resident = Number(readFileSync(`/proc/${this.pid}/statm`, "utf8").split(" ")[1]);
      return (resident * PAGE_BYTES) / (1024 * 1024);
    } catch {
      return 0;
    }
  }

  /** Kill the process (SIGKILL), remembering why. */
  kill(reason: KillReason): void {
    if (this.exited) return;
    this.killReason ??= reason;
    this.child.kill("SIGKILL");
  }

  /** Ask the worker to exit (killing it after `graceMs` or at once when busy); resolves when gone. */
  shutdown(graceMs: number): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once("close", () => { resolve(); });
      if (this.inflight.length > 0 || !this.child.connected) {
        this.kill({ kind: "shutdown" });
        return;
      }
      this.killReason = { kind: "shutdown" };
      this.child.send({ type: "shutdown" } satisfies HostMessage);
      this.setTimer(graceMs, () => this.child.kill("SIGKILL"));
    });
  }

}
