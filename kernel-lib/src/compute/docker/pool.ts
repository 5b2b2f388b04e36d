/**
 * The docker backend's slots: up to `workers` long-lived containers fed from one FIFO queue of
 * calls (the {@link SlotPool} engine, like the localhost pool). It guarantees that every accepted
 * call ends: it removes a container at its running call's timeout, reports the running call of a
 * container that ended (out of memory, crashed, killed from outside) as failed, re-queues the
 * calls that had not started, and starts a new container in the slot on demand.
 */
import type { CallStatus, InvocationPayload } from "../../protocol.js";
import { SlotPool } from "../slot-pool.js";
import { DockerContainer, type ClientIdentity, type ContainerSpec } from "./container.js";
import { describeContainerEnd } from "./failure.js";
import type { DockerWorkerMessage } from "./frames.js";
import type { DockerSettings } from "./settings.js";

/** Allowance for loading the function and input before a call's own timeout counts. */
const START_SLACK_MS = 250;

/** Figures of the pool's containers, for benchmarks and `describe()`. */
export interface PoolFigures {
  /** Start times (docker run to runtime ready) of every container started, ms. */
  startMs: number[];
}

/** The containers of one docker backend. Emits `event` with {@link ComputeEvent}s. */
export class DockerPool extends SlotPool<DockerContainer> {
  /** Figures for benchmarks. */
  readonly figures: PoolFigures = { startMs: [] };

  /**
   * @param settings - the backend's settings (image, slots, engine)
   * @param client - labels of this client process
   * @param runtimeDir - host directory holding the runtime's `docker-worker.mjs`
   */
  constructor(private readonly settings: DockerSettings, private readonly client: ClientIdentity, private readonly runtimeDir: string) {
    super(settings.workers, { ended: "containers ended" });
  }

  /** Names of the containers alive now. */
  containerNames(): string[] {
    return [...this.slots].map((c) => c.name);
  }

  /** Remove every container and forget queued calls. */
  async close(): Promise<void> {
    await this.closeSlots((c) => c.shutdown());
  }

  private specOf(payload: InvocationPayload): ContainerSpec {
    const root = payload.storage.backend === "localhost" ? payload.storage.config["storage_root"] : undefined;
    return { memoryMb: payload.memoryMb, mounts: typeof root === "string" ? [root] : [] };
  }

  protected specKeyOf(payload: InvocationPayload): string {
    return JSON.stringify(this.specOf(payload));
  }

  protected slotName(container: DockerContainer): string {
    return container.name;
  }

  protected sentToIdle(): void {
    // The runtime reports each call's start itself (a `start` message).
  }

  protected startSlot(payload: InvocationPayload): DockerContainer {
    const c = new DockerContainer(
      this.settings, this.specOf(payload), this.client, this.runtimeDir,
      (container, m) => { this.onMessage(container, m); },
      (container, end) => { this.onSlotEnd(container, describeContainerEnd(container, end)); },
    );
    c.setTimer(this.settings.startTimeoutS * 1000, () => { c.kill({ kind: "stall" }); });
    return c;
  }

  private onMessage(c: DockerContainer, message: DockerWorkerMessage): void {
    switch (message.type) {
      case "ready":
        // Killed while the engine was still creating it (`docker rm -f` found nothing yet): remove it now.
        if (c.killReason !== null) {
          c.kill(c.killReason);
          return;
        }
        c.ready = true;
        c.readyMs = Date.now();
        c.clearTimer();
        this.figures.startMs.push(c.readyMs - c.startedMs);
        return;
      case "start":
        this.onStart(c, message.callId, message.workerStartMs);
        return;
      case "status":
        this.onContainerStatus(c, message.status);
        return;
      case "retiring":
        c.retiring = true;
        c.running = null;
        c.clearTimer();
        return;
    }
  }

  /** The runtime picked up the head of the container's list: arm its timeout, report the start. */
  private onStart(c: DockerContainer, callId: string, workerStartMs: number): void {
    const head = c.inflight[0];
    if (head === undefined || head.call.callId !== callId) return;
    c.running = head;
    const limitMs = head.payload.timeoutMs;
    c.setTimer(limitMs + START_SLACK_MS, () => { c.kill({ kind: "timeout", limitMs }); });
    this.reportStart(head, workerStartMs);
  }

  private onContainerStatus(c: DockerContainer, status: CallStatus): void {
    if (c.running?.call.callId === status.callId) {
      c.running = null;
      c.clearTimer();
    }
    this.onStatus(c, status);
  }
}
