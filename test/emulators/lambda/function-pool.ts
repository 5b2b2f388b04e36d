/**
 * The slots of one function version (code + configuration): up to `slots` RIE processes, each
 * serving one invocation at a time, and the queue of accepted asynchronous (`Event`) invocations
 * waiting for a free slot, as Lambda's internal queue does. A synchronous invocation that finds
 * no free slot is refused (the router answers 429), as is an `Event` one when the queue is full.
 */
import { RieSlot, type SlotSpec } from "./rie-slot.js";

/** A function version as the router runs it. */
export interface FunctionVersion {
  name: string;
  /** Base64 SHA-256 of the zip (Lambda's `CodeSha256`). */
  codeSha256: string;
  /** `file.export`. */
  handler: string;
  timeoutS: number;
  memoryMb: number;
  /** The function's environment variables. */
  env: Record<string, string>;
}

/** How an invocation ended, as Lambda reports it. */
export interface InvokeOutcome {
  /** The response payload (the result, or the error object). */
  payload: string;
  /** `Unhandled` when the function failed (Lambda's `X-Amz-Function-Error`). */
  functionError?: "Unhandled";
  durationMs: number;
}

/** Pool sizes and how to start a slot. */
export interface PoolOptions {
  slots: number;
  /** Most `Event` invocations waiting for a slot. */
  eventQueueLimit: number;
  riePath: string;
  bootstrap: string[];
  /** Environment every runtime gets (region, credentials for the remote invoker). */
  baseEnv: Record<string, string>;
}

interface QueuedEvent {
  requestId: string;
  /** A synchronous invocation waiting for its slot to start (not counted against the event queue). */
  sync?: boolean;
  body: Buffer;
  settle: (outcome: InvokeOutcome) => void;
}

const TIMED_OUT = /^Task timed out after ([\d.]+) seconds$/;

/** Lambda's view of the RIE's answer (the RIE never sets `X-Amz-Function-Error`). */
export function classify(status: number, text: string, requestId: string, durationMs: number): InvokeOutcome {
  const timeout = TIMED_OUT.exec(text.trim());
  if (timeout !== null) {
    const errorMessage = `RequestId: ${requestId} Error: Task timed out after ${timeout[1] ?? "?"} seconds`;
    return { payload: JSON.stringify({ errorType: "Sandbox.Timedout", errorMessage }), functionError: "Unhandled", durationMs };
  }
  if (status !== 200) {
    return { payload: JSON.stringify({ errorType: "Runtime.ExitError", errorMessage: `RequestId: ${requestId} Error: the runtime failed (${status}): ${text.slice(0, 500)}` }), functionError: "Unhandled", durationMs };
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (typeof parsed === "object" && parsed !== null && "errorType" in parsed && "errorMessage" in parsed) return { payload: text, functionError: "Unhandled", durationMs };
  } catch {
    // not JSON: a plain result
  }
  return { payload: text, durationMs };
}

/** The slots and event queue of one function version. */
export class FunctionPool {
  private readonly free: RieSlot[] = [];
  private readonly all = new Set<RieSlot>();
  private readonly queue: QueuedEvent[] = [];
  private starting = 0;
  /** Asynchronous invocations in the queue. */
  private queuedEvents = 0;
  private running = 0;
  private retired = false;

  /**
   * @param version - the function version the slots run
   * @param taskRoot - its unpacked code
   * @param options - sizes, the RIE and bootstrap
   */
  constructor(readonly version: FunctionVersion, private readonly taskRoot: string, private readonly options: PoolOptions) {}

  /** Invocations running or waiting. */
  get busy(): number {
    return this.running + this.queue.length;
  }

  /** Run a synchronous invocation now, or null when every slot is busy. */
  tryInvoke(requestId: string, body: Buffer): Promise<InvokeOutcome> | null {
    if (this.queue.length > 0 || (this.free.length === 0 && this.all.size + this.starting >= this.options.slots)) return null;
    return new Promise((resolve) => this.dispatch({ requestId, body, settle: resolve, sync: true }));
  }

  /** Queue an asynchronous invocation; false when the queue is full. */
  enqueue(requestId: string, body: Buffer, settle: (outcome: InvokeOutcome) => void): boolean {
    if (this.queuedEvents >= this.options.eventQueueLimit && this.free.length === 0) return false;
    this.dispatch({ requestId, body, settle });
    return true;
  }

  /** Stop the slots once nothing runs (a newer version replaced this one). */
  retire(): void {
    this.retired = true;
    if (this.busy === 0) void this.stop();
  }

  /** Stop every slot now. */
  async stop(): Promise<void> {
    this.retired = true;
    const slots = [...this.all];
    this.all.clear();
    this.free.length = 0;
    await Promise.all(slots.map((s) => s.stop()));
  }

  private dispatch(event: QueuedEvent): void {
    const slot = this.free.pop();
    if (slot !== undefined) {
      void this.run(slot, event);
      return;
    }
    this.queue.push(event);
    if (event.sync !== true) this.queuedEvents++;
    if (this.all.size + this.starting < this.options.slots) void this.grow();
  }

  private async grow(): Promise<void> {
    this.starting++;
    const spec: SlotSpec = {
      riePath: this.options.riePath,
      bootstrap: this.options.bootstrap,
      taskRoot: this.taskRoot,
      env: {
        ...this.options.baseEnv,
        ...this.version.env,
        _HANDLER: this.version.handler,
        AWS_LAMBDA_FUNCTION_NAME: this.version.name,
        AWS_LAMBDA_FUNCTION_TIMEOUT: String(this.version.timeoutS),
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(this.version.memoryMb),
      },
    };
    const slot = new RieSlot(spec);
    try {
      await slot.start();
    } catch (err) {
      this.starting--;
      const next = this.shift();
      next?.settle({ payload: JSON.stringify({ errorType: "ServiceException", errorMessage: String(err) }), functionError: "Unhandled", durationMs: 0 });
      return;
    }
    this.starting--;
    this.all.add(slot);
    this.release(slot);
  }

  private shift(): QueuedEvent | undefined {
    const next = this.queue.shift();
    if (next !== undefined && next.sync !== true) this.queuedEvents--;
    return next;
  }

  private release(slot: RieSlot): void {
    if (this.retired && this.queue.length === 0) {
      this.all.delete(slot);
      void slot.stop();
      return;
    }
    const next = this.shift();
    if (next !== undefined) void this.run(slot, next);
    else this.free.push(slot);
  }

  private async run(slot: RieSlot, event: QueuedEvent): Promise<void> {
    this.running++;
    const startMs = Date.now();
    let outcome: InvokeOutcome;
    let healthy = true;
    try {
      const answer = await slot.invoke(event.body, event.requestId, this.version.timeoutS * 1000 + 10_000);
      outcome = classify(answer.status, answer.text, event.requestId, Date.now() - startMs);
    } catch (err) {
      healthy = false;
      outcome = classify(502, err instanceof Error ? err.message : String(err), event.requestId, Date.now() - startMs);
    }
    this.running--;
    event.settle(outcome);
    if (healthy) {
      this.release(slot);
      return;
    }
    // A crashed RIE is replaced by a fresh one.
    this.all.delete(slot);
    await slot.stop();
    if (this.queue.length > 0 && !this.retired) void this.grow();
  }
}
