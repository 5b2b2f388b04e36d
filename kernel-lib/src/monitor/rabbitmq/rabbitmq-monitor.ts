/**
 * RabbitMQ monitoring (`monitoring: "rabbitmq"`): the client declares one auto-delete queue per
 * executor before anything is invoked, workers publish a start and an end message per call, and
 * futures resolve from those messages. Storage stays the record: a call not heard from by its
 * deadline (its timeout plus a grace period) is looked up in storage before it counts as lost,
 * and when the broker connection drops the monitor polls storage for every call, so a lost
 * message or a dead broker never hangs a job.
 */
import type { Channel, ChannelModel, ConsumeMessage } from "amqplib";
import { decodeMonitorMessage } from "../../protocol.js";
import type { AmqpTarget, MonitorMessage, StorageRef } from "../../protocol.js";
import type { StorageBackend } from "../../storage/backend.js";
import { isCurrentJob } from "../nonce.js";
import { ReportOnce } from "../report-once.js";
import type { Monitor } from "../monitor.js";
import { DEFAULT_POLL, StoragePollMonitor, type PollOptions, type PollSink, type WatchedCall } from "../storage-poll.js";
import { checkAmqpUrl, connectBroker, keepProcessAlive, queueName } from "./broker.js";
import { showOnly } from "../../security/opaque.js";

/** Cadence of the storage fallback: it only looks at overdue calls until the broker is lost. */
const FALLBACK_POLL: PollOptions = { minIntervalMs: 250, maxIntervalMs: DEFAULT_POLL.maxIntervalMs };

/** What a {@link RabbitMonitor} counted, for tests and benchmarks. */
export interface RabbitCounts {
  /** Start messages received. */
  starts: number;
  /** End (status) messages received. */
  statuses: number;
  /** Messages that were not tswren monitor messages of this executor (ignored). */
  ignored: number;
}

/** Consumes one executor's call events from RabbitMQ, with the storage fallback. */
export class RabbitMonitor implements Monitor {
  /** The storage fallback (its `requests` counts the storage requests monitoring made). */
  readonly fallback: StoragePollMonitor;
  /** Messages received so far. */
  readonly counts: RabbitCounts = { starts: 0, statuses: 0, ignored: 0 };
  private brokerLost = false;
  private stopped = false;
  private consumerTag: string | null = null;
  /** One report per call attempt across the broker and the storage fallback. */
  private readonly once = new ReportOnce();

  private constructor(
    private readonly model: ChannelModel,
    private readonly channel: Channel,
    /** Where workers publish; goes into every invocation payload. */
    readonly target: AmqpTarget,
    private readonly executorId: string,
    private readonly sink: PollSink,
    storage: StorageBackend,
    ref: StorageRef,
  ) {
    showOnly(this, "RabbitMonitor", () => ({ executorId: this.executorId, queue: this.target.queue, degraded: this.brokerLost, counts: { ...this.counts } }));
    this.fallback = new StoragePollMonitor(storage, ref, executorId, this.fallbackSink(), FALLBACK_POLL);
    model.on("error", () => undefined); // followed by "close"
    model.on("close", () => { this.onBrokerLost(); });
    channel.on("error", () => undefined);
    channel.on("close", () => { this.onBrokerLost(); });
  }

  /**
   * Connect to the broker and declare the executor's queue (before any call is invoked, so no
   * message can miss it).
   * @param url - `rabbitmq.amqp_url`
   * @param executorId - whose calls to watch
   * @param sink - the executor: receives starts, statuses and lost calls
   * @param storage - job storage, for the fallback
   * @param ref - bucket and prefix of the job keys
   * @throws TswrenError `TSWREN_CONFIG_BAD_VALUE` (not an amqp(s) URL), `TSWREN_MONITOR_UNREACHABLE`,
   *   `TSWREN_MONITOR_CREDENTIALS`
   */
  static async connect(url: string, executorId: string, sink: PollSink, storage: StorageBackend, ref: StorageRef): Promise<RabbitMonitor> {
    checkAmqpUrl(url);
    const model = await connectBroker(url);
    try {
      const channel = await model.createChannel();
      const queue = queueName(executorId);
      await channel.assertQueue(queue, { exclusive: true, autoDelete: true, durable: false });
      keepProcessAlive(model, false);
      return new RabbitMonitor(model, channel, { url, queue }, executorId, sink, storage, ref);
    } catch (err) {
      await model.close().catch(() => undefined);
      throw err;
    }
  }

  start(): void {
    this.fallback.start();
    this.channel
      .consume(this.target.queue, (msg) => { this.onMessage(msg); }, { noAck: true })
      .then((ok) => { this.consumerTag = ok.consumerTag; })
      .catch(() => { this.onBrokerLost(); });
  }

  /** New calls were invoked: keep the process alive until they end, and check deadlines soon. */
  nudge(): void {
    if (!this.brokerLost && !this.stopped) keepProcessAlive(this.model, true);
    this.fallback.nudge();
  }

  /** True once the broker connection was lost (storage polling took over). */
  get degraded(): boolean {
    return this.brokerLost;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.fallback.stop();
    if (this.brokerLost) return;
    if (this.consumerTag !== null) await this.channel.cancel(this.consumerTag).catch(() => undefined);
    await this.model.close().catch(() => undefined);
  }

  private onMessage(msg: ConsumeMessage | null): void {
    if (msg === null) {
      this.onBrokerLost(); // the queue was deleted under us
      return;
    }
    let message: MonitorMessage;
    try {
      message = decodeMonitorMessage(msg.content);
    } catch {
      this.counts.ignored++;
      return;
    }
    if (message.type === "start") {
      if (message.executorId !== this.executorId || !isCurrentJob(this.sink, message.jobId, message.jobNonce)) {
        this.counts.ignored++;
        return;
      }
      this.counts.starts++;
      if (this.once.start(message.jobId, message.callId, message.attempt)) this.sink.onStart(message.jobId, message.callId, message.attempt, message.workerStartMs);
      return;
    }
    if (message.status.executorId !== this.executorId || !isCurrentJob(this.sink, message.status.jobId, message.status.jobNonce)) {
      this.counts.ignored++;
      return;
    }
    this.counts.statuses++;
    if (this.once.status(message.status)) this.sink.onStatus(message.status);
    if (!this.sink.hasWatchedCalls()) keepProcessAlive(this.model, false);
  }

  private onBrokerLost(): void {
    if (this.brokerLost || this.stopped) return;
    this.brokerLost = true;
    this.fallback.nudge(); // from now on storage is polled for every call
  }

  /** The executor as the fallback sees it: only overdue calls until the broker is lost. */
  private fallbackSink(): PollSink {
    const sink = this.sink;
    return {
      onStart: (jobId, callId, attempt, workerStartMs) => { if (this.once.start(jobId, callId, attempt)) sink.onStart(jobId, callId, attempt, workerStartMs); },
      onStatus: (status) => { if (this.once.status(status)) sink.onStatus(status); },
      onLost: (jobId, callId, attempt, message) => { sink.onLost(jobId, callId, attempt, message); },
      hasWatchedCalls: () => sink.hasWatchedCalls(),
      jobNonce: (jobId) => sink.jobNonce(jobId),
      watchedCalls: () => (this.brokerLost ? sink.watchedCalls() : overdue(sink.watchedCalls(), Date.now())),
    };
  }
}

/** The calls past their deadline, by job (jobs without any are left out). */
function overdue(calls: Map<string, WatchedCall[]>, nowMs: number): Map<string, WatchedCall[]> {
  const out = new Map<string, WatchedCall[]>();
  for (const [jobId, list] of calls) {
    const late = list.filter((c) => c.deadlineMs < nowMs);
    if (late.length > 0) out.set(jobId, late);
  }
  return out;
}
