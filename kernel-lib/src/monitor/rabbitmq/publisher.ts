/**
 * The worker side of RabbitMQ monitoring: publishes each call's start and end to the executor's
 * queue. One connection per process (a local worker, a warm OpenWhisk container, a Knative
 * instance) is reused across calls; messages go on a confirm channel, and an end is awaited until
 * the broker confirmed it (bounded), so the client hears about a call no later than the call is
 * reported done. A broker failure never fails a call: the status is in storage anyway, and the
 * client falls back to reading it there.
 */
import type { ChannelModel, ConfirmChannel } from "amqplib";
import { encodeMonitorMessage } from "../../protocol.js";
import type { AmqpTarget, CallSpec, CallStatus, InvocationPayload, MonitorMessage } from "../../protocol.js";
import { connectBroker } from "./broker.js";
import { ErrorCodes, TswrenError } from "../../errors.js";

/** Longest wait for the broker to confirm a message. */
const CONFIRM_TIMEOUT_MS = 5000;
/** After a failed connect, publishing is skipped for this long (a down broker must not slow calls). */
const RETRY_AFTER_MS = 10_000;
/** Connect bound on the worker side. */
const WORKER_CONNECT_TIMEOUT_MS = 3000;

/** One broker connection and its confirm channel, re-opened when either closes. */
class Publisher {
  private model: Promise<ChannelModel> | null = null;
  private channel: Promise<ConfirmChannel> | null = null;
  private retryAtMs = 0;
  private warned = false;

  constructor(private readonly url: string) {}

  /**
   * Publish one message and wait for the broker's confirm (at most {@link CONFIRM_TIMEOUT_MS}).
   * @returns true when confirmed; false when it could not be sent (never throws)
   */
  async publish(queue: string, message: MonitorMessage): Promise<boolean> {
    try {
      const channel = await this.openChannel();
      if (channel === null) return false;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { reject(new TswrenError(ErrorCodes.MONITOR_UNREACHABLE, `no confirm within ${CONFIRM_TIMEOUT_MS} ms`)); }, CONFIRM_TIMEOUT_MS);
        channel.sendToQueue(queue, encodeMonitorMessage(message), { contentType: "application/json" }, (err: unknown) => {
          clearTimeout(timer);
          if (err === null || err === undefined) resolve();
          else reject(err instanceof Error ? err : new TswrenError(ErrorCodes.MONITOR_UNREACHABLE, "the broker refused the message"));
        });
      });
      return true;
    } catch (err) {
      this.warn(err);
      return false;
    }
  }

  private async openChannel(): Promise<ConfirmChannel | null> {
    if (this.channel === null) {
      if (Date.now() < this.retryAtMs) return null;
      const opening = this.connect().then(async (model) => {
        const ch = await model.createConfirmChannel();
        ch.on("error", () => undefined); // e.g. a message over the broker's size limit: the channel closes
        ch.on("close", () => { if (this.channel === opening) this.channel = null; });
        return ch;
      });
      this.channel = opening;
      opening.catch(() => {
        if (this.channel === opening) this.channel = null;
        this.retryAtMs = Date.now() + RETRY_AFTER_MS;
      });
    }
    return this.channel;
  }

  private connect(): Promise<ChannelModel> {
    if (this.model === null) {
      const connecting = connectBroker(this.url, WORKER_CONNECT_TIMEOUT_MS).then((model) => {
        model.on("error", () => undefined); // followed by "close"
        model.on("close", () => {
          if (this.model === connecting) this.model = null;
        });
        return model;
      });
      this.model = connecting;
      connecting.catch(() => { if (this.model === connecting) this.model = null; });
    }
    return this.model;
  }

  /** One line on stderr per process (no URL in it), so platform logs show why messages are missing. */
  private warn(err: unknown): void {
    if (this.warned) return;
    this.warned = true;
    const why = err instanceof Error ? err.message : String(err);
    process.stderr.write(`tswren: a call event was not published to RabbitMQ (${why}); the client reads the call's status from storage instead\n`);
  }
}

const publishers = new Map<string, Publisher>();

function publisherFor(target: AmqpTarget): Publisher {
  let p = publishers.get(target.url);
  if (p === undefined) {
    p = new Publisher(target.url);
    publishers.set(target.url, p);
  }
  return p;
}

/**
 * Publish a call's start, when the payload asks for RabbitMQ events. Never throws.
 * @returns true when the broker confirmed it (false also when the payload has no `amqp`)
 */
export function publishStart(payload: InvocationPayload, call: Pick<CallSpec, "callId" | "attempt">, workerStartMs: number): Promise<boolean> {
  if (payload.amqp === undefined) return Promise.resolve(false);
  const { executorId, jobId, jobNonce } = payload;
  return publisherFor(payload.amqp).publish(payload.amqp.queue, { type: "start", executorId, jobId, callId: call.callId, attempt: call.attempt, workerStartMs, ...(jobNonce !== undefined ? { jobNonce } : {}) });
}

/**
 * Publish a call's end (its status, as written to storage), when the payload asks for RabbitMQ
 * events. Never throws.
 * @returns true when the broker confirmed it (false also when the payload has no `amqp`)
 */
export function publishStatus(payload: Pick<InvocationPayload, "amqp">, status: CallStatus): Promise<boolean> {
  if (payload.amqp === undefined) return Promise.resolve(false);
  return publisherFor(payload.amqp).publish(payload.amqp.queue, { type: "status", status });
}
