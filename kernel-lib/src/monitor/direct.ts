/** Monitor over a compute backend's direct channel (e.g. the localhost pool's IPC events). */
import type { ComputeBackend } from "../compute/backend.js";
import type { Monitor, MonitorSink } from "./monitor.js";
import { isCurrentJob } from "./nonce.js";
import { ReportOnce } from "./report-once.js";
import { showOnly } from "../security/opaque.js";

/** Forwards one executor's events from the backend's direct channel. */
export class DirectMonitor implements Monitor {
  private off: (() => void) | null = null;
  private readonly once = new ReportOnce();

  /**
   * @param compute - a backend with the `events` capability
   * @param executorId - only this executor's events are forwarded
   * @param sink - receives the events
   * @param platformOnly - forward only calls the backend itself ended (`byPlatform`), for when
   *   another monitor (RabbitMQ) hears from the workers
   */
  constructor(
    private readonly compute: ComputeBackend,
    private readonly executorId: string,
    private readonly sink: MonitorSink,
    private readonly platformOnly = false,
  ) {}

  start(): void {
    const events = this.compute.capabilities.events;
    if (this.off !== null || events === undefined) return;
    this.off = events.subscribe((event) => {
      if (event.type === "late-fault") {
        if (event.executorId === this.executorId) this.sink.onLateFault?.(event.jobId, event.callId, event.text);
        return;
      }
      if (this.platformOnly && (event.type === "start" || event.byPlatform !== true)) return;
      if (event.type === "start") {
    showOnly(this, "DirectMonitor", () => ({ executorId: this.executorId, backend: this.compute.name }));
        if (event.executorId === this.executorId && this.once.start(event.jobId, event.callId, event.attempt)) this.sink.onStart(event.jobId, event.callId, event.attempt, event.workerStartMs);
      } else if (event.status.executorId === this.executorId && isCurrentJob(this.sink, event.status.jobId, event.status.jobNonce) && this.once.status(event.status)) {
        this.sink.onStatus(event.status);
      }
    });
  }

  stop(): void {
    this.off?.();
    this.off = null;
  }
}
