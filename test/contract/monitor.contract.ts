/**
 * The monitor contract: every monitor (direct channel, storage polling, RabbitMQ) runs this same
 * suite. The fixture gives the monitor and the worker side of its channel (the backend's events,
 * `start` / `status.json` keys in real storage, messages on a real broker); the sink behaves like
 * the executor (it stops watching a call once its status arrived). `skips` maps a case to the
 * reason it does not apply.
 */
import { afterAll, describe, expect, it } from "vitest";
import type { Monitor } from "../../kernel-lib/src/monitor/monitor.js";
import type { PollSink, WatchedCall } from "../../kernel-lib/src/monitor/storage-poll.js";
import { failedStatus, type CallStatus } from "../../kernel-lib/src/protocol.js";

/** A monitor under test and the worker side of its channel. */
export interface MonitorHarness {
  monitor: Monitor;
  /** A worker reports that it started a call attempt. */
  reportStart(jobId: string, callId: string, attempt: number): Promise<void>;
  /** A worker reports a call attempt's end. */
  reportStatus(status: CallStatus): Promise<void>;
  /** Listeners the monitor holds on the channel (the direct channel's subscriptions), when countable. */
  listeners?(): number;
}

/** Makes monitors for the suite. */
export interface MonitorFixture {
  /** A monitor of `executorId` reporting to `sink` (not started). */
  create(executorId: string, sink: PollSink): Promise<MonitorHarness>;
  /** Called once after the suite. */
  dispose(): Promise<void>;
}

/** Names of the contract's cases, for skip lists. */
export const MONITOR_CASES = {
  once: "every call's start and end are reported exactly once",
  duplicates: "a duplicate status of a call is ignored",
  lateStart: "a start that arrives after the call ended is ignored",
  otherExecutor: "calls of another executor are not reported",
  stop: "stop() releases every timer, connection and listener",
  staleNonce: "a status without the job's nonce (stale or forged) is ignored and the real one is still reported",
} as const;

/** A case of the contract. */
export type MonitorCase = keyof typeof MONITOR_CASES;

/** A sink that behaves like the executor and records what it was told. */
export class RecordingSink implements PollSink {
  readonly events: string[] = [];
  /** The statuses reported, in order. */
  readonly statuses: CallStatus[] = [];
  private readonly watched = new Map<string, WatchedCall[]>();
  private readonly waiters = new Map<string, () => void>();

  /** Watch calls of a job (as the executor does once they are invoked). */
  watch(jobId: string, callIds: readonly string[]): void {
    this.watched.set(jobId, callIds.map((callId) => ({ callId, attempt: 1, deadlineMs: Date.now() + 600_000, started: false })));
  }

  /** Resolves once the status of `jobId/callId` arrived. */
  ended(jobId: string, callId: string): Promise<void> {
    if (this.events.includes(`status ${jobId}/${callId}/1`)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.set(`${jobId}/${callId}`, resolve));
  }

  onStart(jobId: string, callId: string, attempt: number): void {
    this.events.push(`start ${jobId}/${callId}/${attempt}`);
    const call = this.watched.get(jobId)?.find((c) => c.callId === callId);
    if (call !== undefined) call.started = true;
  }

  onStatus(status: CallStatus): void {
    this.events.push(`status ${status.jobId}/${status.callId}/${status.attempt}`);
    this.statuses.push(status);
    const calls = this.watched.get(status.jobId)?.filter((c) => c.callId !== status.callId) ?? [];
    if (calls.length > 0) this.watched.set(status.jobId, calls);
    else this.watched.delete(status.jobId);
    this.waiters.get(`${status.jobId}/${status.callId}`)?.();
  }

  onLost(jobId: string, callId: string, attempt: number): void {
    this.events.push(`lost ${jobId}/${callId}/${attempt}`);
  }

  watchedCalls(): Map<string, WatchedCall[]> {
    return this.watched;
  }

  hasWatchedCalls(): boolean {
    return this.watched.size > 0;
  }

  jobNonce(jobId: string): string | undefined {
    return jobNonceOf(jobId);
  }
}

/** The nonce the contract's executor gave job `jobId`. */
export function jobNonceOf(jobId: string): string {
  return `nonce-${jobId}`;
}

let executors = 0;

/** A status as a worker writes it (here: a failure report, which carries no result to store). */
export function statusOf(executorId: string, jobId: string, callId: string, workerId = "contract-worker", jobNonce: string | null = jobNonceOf(jobId)): CallStatus {
  return failedStatus({ executorId, jobId, hostJobCreateMs: Date.now(), hostSubmitMs: Date.now(), jobNonce: jobNonce ?? undefined }, { callId, attempt: 1 }, { kind: "exception", name: "Error", message: `call ${callId}` }, workerId);
}

/** Timers and sockets alive in this process now, by kind. */
function handles(): string {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout" || r === "TCPSocketWrap").sort().join(",");
}

/** True when no more timers or sockets are alive than in `before` (others' timers may have ended since). */
function noMoreHandlesThan(before: string): boolean {
  const count = (list: string, kind: string): number => list.split(",").filter((k) => k === kind).length;
  const now = handles();
  return ["Timeout", "TCPSocketWrap"].every((kind) => count(now, kind) <= count(before, kind));
}

/** Resolves once `test()` holds, checking every 20 ms (for handles a closed socket releases on its own). */
async function until(test: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!test()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Run the monitor contract against the monitors made by `fixture`.
 * @param name - the monitor, as named in the suite title
 * @param fixture - makes monitors and the worker side of their channel
 * @param skips - case → reason it does not apply
 */
export function monitorContract(name: string, fixture: () => MonitorFixture, skips: Partial<Record<MonitorCase, string>> = {}): void {
  describe(`monitor contract: ${name}`, () => {
    let made: MonitorFixture | undefined;
    const open: Monitor[] = [];
    const harness = async (sink: PollSink): Promise<{ h: MonitorHarness; executorId: string }> => {
      made ??= fixture();
      const executorId = `c0ffee-${executors++}`;
      const h = await made.create(executorId, sink);
      open.push(h.monitor);
      return { h, executorId };
    };
    const test: CaseFn = (key, body) => {
      const reason = skips[key];
      if (reason !== undefined) it.skip(`${MONITOR_CASES[key]} (skipped: ${reason})`, body);
      else it(MONITOR_CASES[key], body);
    };
    afterAll(async () => {
      await Promise.all(open.map(async (m) => m.stop()));
      await made?.dispose();
    });

    defineReportCases(test, harness);
    defineIgnoreAndStopCases(test, harness);
    defineNonceCases(test, harness);
  });
}

type CaseFn = (key: MonitorCase, body: () => Promise<void>) => void;
/** A started-later monitor on a fresh executor id, reporting to `sink`. */
type Harness = (sink: PollSink) => Promise<{ h: MonitorHarness; executorId: string }>;

/** Cases: every call reported exactly once, and duplicates ignored. */
function defineReportCases(test: CaseFn, harness: Harness): void {
  test("once", async () => {
    const sink = new RecordingSink();
    const { h, executorId } = await harness(sink);
    const calls = ["00000", "00001", "00002", "00003", "00004"];
    sink.watch("M000", calls);
    h.monitor.start();
    for (const callId of calls) await h.reportStart("M000", callId, 1);
    for (const callId of calls) await h.reportStatus(statusOf(executorId, "M000", callId));
    await Promise.all(calls.map((c) => sink.ended("M000", c)));
    await h.monitor.stop();
    for (const callId of calls) {
      expect(sink.events.filter((e) => e === `status M000/${callId}/1`)).toHaveLength(1);
      expect(sink.events.filter((e) => e === `start M000/${callId}/1`).length).toBeLessThanOrEqual(1);
    }
  });

  test("duplicates", async () => {
    const sink = new RecordingSink();
    const { h, executorId } = await harness(sink);
    sink.watch("M001", ["00000", "00001"]);
    h.monitor.start();
    await h.reportStatus(statusOf(executorId, "M001", "00000"));
    await sink.ended("M001", "00000");
    await h.reportStatus(statusOf(executorId, "M001", "00000", "another-worker"));
    await h.reportStatus(statusOf(executorId, "M001", "00001"));
    await sink.ended("M001", "00001");
    await h.monitor.stop();
    expect(sink.events.filter((e) => e === "status M001/00000/1")).toHaveLength(1);
  });
}

/** Cases: late starts and other executors' calls ignored; stop() releases everything. */
function defineIgnoreAndStopCases(test: CaseFn, harness: Harness): void {
  test("lateStart", async () => {
    const sink = new RecordingSink();
    const { h, executorId } = await harness(sink);
    sink.watch("M002", ["00000", "00001"]);
    h.monitor.start();
    await h.reportStatus(statusOf(executorId, "M002", "00000"));
    await sink.ended("M002", "00000");
    await h.reportStart("M002", "00000", 1);
    await h.reportStatus(statusOf(executorId, "M002", "00001"));
    await sink.ended("M002", "00001");
    await h.monitor.stop();
    const ended = sink.events.indexOf("status M002/00000/1");
    expect(sink.events.slice(ended).filter((e) => e === "start M002/00000/1")).toEqual([]);
  });

  test("otherExecutor", async () => {
    const sink = new RecordingSink();
    const { h, executorId } = await harness(sink);
    sink.watch("M003", ["00000"]);
    h.monitor.start();
    await h.reportStatus(statusOf(`${executorId}-other`, "M003", "00000"));
    await h.reportStatus(statusOf(executorId, "M003", "00000"));
    await sink.ended("M003", "00000");
    await h.monitor.stop();
    expect(sink.events).toEqual(["status M003/00000/1"]);
  });

  test("stop", async () => {
    const sink = new RecordingSink();
    const before = handles();
    const { h, executorId } = await harness(sink);
    sink.watch("M004", ["00000", "00001"]);
    h.monitor.start();
    h.monitor.nudge?.();
    await h.reportStatus(statusOf(executorId, "M004", "00000"));
    await sink.ended("M004", "00000");
    await h.monitor.stop();
    await until(() => noMoreHandlesThan(before), `the monitor did not release its timers and sockets (before: [${before}], now: [${handles()}])`);
    expect(h.listeners?.() ?? 0).toBe(0);
  });
}

/** Cases: a status must carry the watched job's nonce. */
function defineNonceCases(test: CaseFn, harness: Harness): void {
  test("staleNonce", async () => {
    const sink = new RecordingSink();
    const { h, executorId } = await harness(sink);
    sink.watch("M005", ["00000", "00001"]);
    h.monitor.start();
    // Left over by an earlier executor with the same ids, and forged without any nonce.
    await h.reportStatus(statusOf(executorId, "M005", "00000", "stale-worker", "0123456789abcdef01234567"));
    await h.reportStatus(statusOf(executorId, "M005", "00001", "forger", null));
    await h.reportStatus(statusOf(executorId, "M005", "00001"));
    await sink.ended("M005", "00001");
    expect(sink.events).toEqual(["status M005/00001/1"]);
    await h.reportStatus(statusOf(executorId, "M005", "00000"));
    await sink.ended("M005", "00000");
    await h.monitor.stop();
    expect(sink.events).toEqual(["status M005/00001/1", "status M005/00000/1"]);
    expect(sink.statuses.map((s) => s.workerId)).toEqual(["contract-worker", "contract-worker"]);
  });
}
