/**
 * One child process of the localhost pool: spawns the runtime's local worker entry with a V8 heap
 * limit, tracks the calls sent to it, and reports how it ended.
 */
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import type { CallSpec, HostMessage, InvocationPayload, WorkerMessage } from "../../protocol.js";

/** A call sent to a worker and not yet reported. */
export interface QueuedCall {
  payload: InvocationPayload;
  call: CallSpec;
  /** How many workers died before this call started (guards against poison loops). */
  dispatchFailures: number;
}

/** Why the host killed a worker, when it did. */
export type KillReason = { kind: "timeout"; limitMs: number } | { kind: "oom"; rssMb: number } | { kind: "stall" } | { kind: "shutdown" } | { kind: "cancelled" };

const STDERR_TAIL_BYTES = 8192;
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
export class WorkerProcess {
  readonly child: ChildProcess;
  readonly memoryMb: number;
  /** Calls sent and not yet reported, in the order the worker runs them. */
  readonly inflight: QueuedCall[] = [];
  /** The call the worker reported as started and has not finished. */
  running: QueuedCall | null = null;
  runningSinceMs = 0;
  ready = false;
  /** The worker said it runs nothing more: calls still listed in `inflight` never started. */
  retiring = false;
  exited = false;
  killReason: KillReason | null = null;
  stderrTail = "";
  timer: NodeJS.Timeout | null = null;

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
    this.memoryMb = memoryMb;
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
    this.child.stderr?.on("data", (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_BYTES);
    });
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

  /** Keep the client process alive only while this worker has work. */
  setActive(active: boolean): void {
    const handles = [this.child, this.child.channel, this.child.stderr] as Array<{ ref?(): unknown; unref?(): unknown } | null | undefined>;
    for (const h of handles) {
      if (active) h?.ref?.();
      else h?.unref?.();
    }
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

  /** Replace the running timer. */
  setTimer(ms: number, fire: () => void): void {
    this.clearTimer();
    this.timer = setTimeout(fire, ms);
  }

  clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
