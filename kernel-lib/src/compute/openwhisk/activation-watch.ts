/**
 * Watches the activations the OpenWhisk backend sent until each has a record, so that a dead
 * activation (its process killed or crashed, over its time limit, refused by the runtime) ends
 * its calls within about a second of its end, with the cause read from the activation record,
 * instead of at the call's deadline as a lost call.
 *
 * While activations are open, every `intervalMs` it lists the action's activations since the
 * oldest open one (summaries carry `statusCode`); an open activation found with `statusCode` 0
 * simply closes; any other is read in full and classified ({@link classifyRecord}), and its calls
 * that wrote no status of their own (statuses written before the activation ended win) are
 * reported as failed on the backend's event channel (`byPlatform`). Activations never listed by
 * the action's time limit plus a minute are dropped: the monitor's deadline covers their calls.
 *
 * A remote invoker's activation ({@link ActivationWatch.trackFanOut}) is watched the same way:
 * once it ended well, its result lists the activations it created (`remoteInvoke.activationIds`,
 * one per slice of `callsPerActivation` calls), and each is then watched like one sent from here;
 * refused by the runtime (an application error: nothing was fanned out), its calls fail at once;
 * killed mid-way (some calls may run), its calls are left to the monitor's deadline.
 */
import { failedStatus } from "../../protocol.js";
import type { CallSpec, InvocationPayload, RemoteErrorInfo } from "../../protocol.js";
import type { ComputeEvent } from "../backend.js";
import type { WhiskApi } from "./whisk-client.js";
import { withTimeouts } from "./whisk-client.js";

/** An activation sent and not seen ended yet. */
interface OpenActivation {
  activationId: string;
  /** Action name as listed (`pkg/name`). */
  action: string;
  payload: InvocationPayload;
  sentMs: number;
  /** Past this (client clock), stop watching. */
  dropAtMs: number;
  /** A remote invoker's activation: the calls per fanned-out activation. */
  fanOutSize?: number;
}

/** A finished activation as the list and get endpoints describe it (the fields read here). */
interface RecordView {
  activationId?: unknown;
  statusCode?: unknown;
  response?: { status?: unknown; result?: unknown } | undefined;
  annotations?: Array<{ key?: unknown; value?: unknown }> | undefined;
}

/** What the watch needs from the backend. */
export interface ActivationWatchDeps {
  /** The platform client. */
  api: () => WhiskApi;
  /** The calls of `payload` that have no status of their own for their attempt in storage. */
  unreported: (payload: InvocationPayload) => Promise<CallSpec[]>;
  /** Deliver an event (the backend's `events` channel). */
  emit: (event: ComputeEvent) => void;
  /** The backend (`openwhisk` / `ibm_cf`), for messages. */
  section: string;
  /** The action's time limit, ms. */
  actionTimeoutMs: number;
}

/** Poll period while activations are open. */
export const ACTIVATION_POLL_MS = 1000;
/** Listed summaries per request (OpenWhisk's maximum page). */
const PAGE = 200;
/** Pages read per poll at most (the newest first). */
const MAX_PAGES = 5;
/** Records start on the platform's clock: list from a little before the oldest send. */
const CLOCK_SLACK_MS = 30_000;

/** Watches sent activations for dead ones (see the module doc). */
export class ActivationWatch {
  private readonly open = new Map<string, OpenActivation>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private stopped = false;

  /** @param deps - the client, the storage check and the event channel */
  constructor(private readonly deps: ActivationWatchDeps) {}

  /** Watch an accepted activation of `action` holding `payload`'s calls. */
  track(activationId: string, action: string, payload: InvocationPayload): void {
    if (this.stopped) return;
    const now = Date.now();
    this.open.set(activationId, { activationId, action, payload, sentMs: now, dropAtMs: now + this.deps.actionTimeoutMs + 60_000 });
    this.schedule();
  }

  /**
   * Watch an accepted remote-invoker activation of `action` fanning out `payload`'s calls in
   * activations of `callsPerActivation` calls; the activations it created are watched once it ended.
   */
  trackFanOut(activationId: string, action: string, payload: InvocationPayload, callsPerActivation: number): void {
    if (this.stopped) return;
    const now = Date.now();
    const fanOutSize = Math.max(1, Math.floor(callsPerActivation));
    this.open.set(activationId, { activationId, action, payload, sentMs: now, dropAtMs: now + this.deps.actionTimeoutMs + 60_000, fanOutSize });
    this.schedule();
  }

  /** Activations not seen ended yet. */
  get openCount(): number {
    return this.open.size;
  }

  /** Stop watching (the backend closed). */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.open.clear();
  }

  private schedule(): void {
    if (this.timer !== null || this.polling || this.stopped || this.open.size === 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.polling = true;
      this.poll()
        .catch(() => undefined) // the platform did not answer this time: the next poll asks again
        .finally(() => {
          this.polling = false;
          this.schedule();
        });
    }, ACTIVATION_POLL_MS);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    const now = Date.now();
    for (const [id, a] of this.open) if (now > a.dropAtMs) this.open.delete(id);
    for (const action of new Set([...this.open.values()].map((a) => a.action))) {
      if (this.stopped) return;
      await this.pollAction(action);
    }
  }

  private async pollAction(action: string): Promise<void> {
    const mine = [...this.open.values()].filter((a) => a.action === action);
    const since = Math.min(...mine.map((a) => a.sentMs)) - CLOCK_SLACK_MS;
    for (let page = 0; page < MAX_PAGES; page++) {
      const listed = (await this.deps.api().activations.list(withTimeouts({ name: action, since, limit: PAGE, skip: page * PAGE }))) as unknown as RecordView[];
      for (const summary of listed) {
        const open = typeof summary.activationId === "string" ? this.open.get(summary.activationId) : undefined;
        if (open === undefined) continue;
        this.open.delete(open.activationId);
        if (open.fanOutSize !== undefined) await this.fanOutEnded(open, open.fanOutSize, summary.statusCode);
        else if (summary.statusCode !== 0) await this.ended(open);
      }
      if (listed.length < PAGE || ![...this.open.values()].some((a) => a.action === action)) return;
    }
  }

  /** A remote invoker's activation ended: watch what it created, or fail its calls when it was refused. */
  private async fanOutEnded(invoker: OpenActivation, size: number, statusCode: unknown): Promise<void> {
    if (statusCode === 1) {
      await this.ended(invoker);
      return;
    }
    if (statusCode !== 0) return;
    const record = (await this.deps.api().activations.get(withTimeouts({ name: invoker.activationId }))) as unknown as RecordView;
    const result = record.response?.result as { remoteInvoke?: { activationIds?: unknown } } | undefined;
    const ids = result?.remoteInvoke?.activationIds;
    if (!Array.isArray(ids)) return;
    const calls = invoker.payload.calls;
    ids.forEach((id: unknown, group) => {
      if (typeof id !== "string" || this.stopped) return;
      const payload = { ...invoker.payload, calls: calls.slice(group * size, (group + 1) * size) };
      this.open.set(id, { activationId: id, action: invoker.action, payload, sentMs: invoker.sentMs, dropAtMs: Date.now() + this.deps.actionTimeoutMs + 60_000 });
    });
  }

  /** A dead activation: fail its calls that reported nothing themselves. */
  private async ended(open: OpenActivation): Promise<void> {
    const record = (await this.deps.api().activations.get(withTimeouts({ name: open.activationId }))) as unknown as RecordView;
    const error = classifyRecord(record, { section: this.deps.section, action: open.action, activationId: open.activationId, payload: open.payload });
    const calls = await this.deps.unreported(open.payload);
    const workerId = `${this.deps.section}-${open.activationId}`;
    for (const call of calls) {
      this.deps.emit({ type: "status", status: failedStatus(open.payload, call, error, workerId, { workerStartMs: open.sentMs }), byPlatform: true });
    }
  }
}

/** What a record's cause is about. */
export interface RecordContext {
  section: string;
  action: string;
  activationId: string;
  payload: Pick<InvocationPayload, "timeoutMs" | "memoryMb">;
}

/**
 * The error of the calls of an activation that ended without their statuses, from its record:
 * over its time limit → `timeout`; the runtime refused the request (`{error}` result, an
 * application error) → `protocol`; a platform failure → `lost`; any other developer error (the
 * process was killed, crashed or ran out of memory) → `crash`, with the platform's own words.
 * @param record - the full activation record
 * @param ctx - which activation, for the message
 */
export function classifyRecord(record: RecordView, ctx: RecordContext): RemoteErrorInfo {
  const result = record.response?.result;
  const said: unknown = typeof result === "object" && result !== null && "error" in result ? result.error : undefined;
  const status = record.response?.status;
  const words = typeof said === "string" ? said : said !== undefined ? JSON.stringify(said) : typeof status === "string" ? status : "no result";
  const where = `${ctx.section} activation ${ctx.activationId} of action ${ctx.action}`;
  const timedOut = record.annotations?.some((a) => a.key === "timeout" && a.value === true) === true || /exceeded its time limit/i.test(words);
  if (timedOut) {
    return { kind: "timeout", name: "TimeoutError", message: `the call ran past its time limit: the platform stopped the ${where} (${words}); raise \`timeout\` (runtime_timeout) if the function needs longer` };
  }
  switch (record.statusCode) {
    case 1:
      return { kind: "protocol", name: "TswrenError", message: `the tswren runtime refused the ${where}: ${words}` };
    case 3:
      return { kind: "lost", name: "CallLost", message: `the platform failed the ${where} (whisk internal error: ${words}); the call did not run to its end` };
    default:
      return {
        kind: "crash",
        name: "ActivationCrashed",
        message: `the ${where} ended without the call's result: "${words}"; its process was killed, crashed (process.exit, a signal) or ran out of memory (runtime_memory ${ctx.payload.memoryMb} MB)`,
      };
  }
}
