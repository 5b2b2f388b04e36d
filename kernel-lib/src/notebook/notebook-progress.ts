/**
 * Live progress in a notebook: one display per job, created in the cell that waits on it and
 * updated in place (display id, `update_display_data`) at most {@link MAX_UPDATES_PER_SECOND}
 * times a second, until every call it shows has ended; the last update has `finished: true`.
 *
 * A display keeps updating after the wait that created it returns (`returnWhen`, `timeout`),
 * until its calls end, which they always do. A second wait on the same job in the same cell
 * joins the live display instead of making another; a wait in a later cell makes a new one while
 * calls are still running.
 */
import type { ResponseFuture } from "../future.js";
import { countFutures, jobStartMs, type ProgressCounts, type ProgressDisplay } from "../progress/counts.js";
import { jobName } from "../progress/job-names.js";
import { PROGRESS_PAYLOAD_VERSION, type ProgressPayload } from "../progress/payload.js";
import type { DisplayHandle, DisplaySink } from "./display.js";
import { jobLabel, progressBundle } from "./progress-model.js";

/** Updates a display sends per second at most while calls run. */
export const MAX_UPDATES_PER_SECOND = 4;
const MIN_INTERVAL_MS = 1000 / MAX_UPDATES_PER_SECOND;
/** With no count changing, the elapsed time is refreshed this often. */
const IDLE_REFRESH_MS = 1000;

function sameCounts(a: ProgressCounts | undefined, b: ProgressCounts): boolean {
  return a !== undefined && a.total === b.total && a.done === b.done && a.failed === b.failed && a.cancelled === b.cancelled && a.running === b.running;
}

function jobKey(f: ResponseFuture): string {
  return `${f.executorId}-${f.jobId}`;
}

/** One job's display. */
export class JobProgressDisplay {
  readonly executorId: string;
  readonly jobId: string;
  readonly cellToken: unknown;
  private readonly futures = new Set<ResponseFuture>();
  private readonly handle: DisplayHandle;
  private readonly startMs: number;
  private readonly ticker: NodeJS.Timeout;
  private lastSentMs: number;
  private lastCounts: ProgressCounts | undefined;
  private ended = false;
  private stopped: string | undefined;

  constructor(sink: DisplaySink, futures: readonly ResponseFuture[]) {
    this.executorId = futures[0].executorId;
    this.jobId = futures[0].jobId;
    this.cellToken = sink.cellToken();
    for (const f of futures) this.futures.add(f);
    this.startMs = jobStartMs(futures) ?? Date.now();
    const payload = this.payload();
    this.handle = sink.show(progressBundle(payload));
    this.lastSentMs = Date.now();
    this.lastCounts = payload;
    this.ticker = setInterval(() => { this.tick(); }, MIN_INTERVAL_MS);
    this.ticker.unref();
    if (payload.finished) this.end();
  }

  /** The display id of this job's output. */
  get displayId(): string {
    return this.handle.displayId;
  }

  /** True once the final update (`finished: true`) was sent. */
  get finished(): boolean {
    return this.ended;
  }

  /** Show more futures of the job (a later wait in the same cell). */
  add(futures: readonly ResponseFuture[]): void {
    for (const f of futures) this.futures.add(f);
  }

  /** The current payload. */
  payload(): ProgressPayload {
    const list = [...this.futures];
    const counts = countFutures(list);
    const ended = counts.done + counts.failed + counts.cancelled === counts.total;
    const finished = ended || this.stopped !== undefined;
    return {
      version: PROGRESS_PAYLOAD_VERSION,
      jobId: this.jobId,
      label: jobLabel(this.jobId, counts.total, jobName(this.executorId, this.jobId)),
      ...counts,
      elapsedSeconds: Math.round((this.endMs(list, ended) - this.startMs) / 100) / 10,
      finished,
      ...(this.stopped !== undefined && !ended ? { stopped: this.stopped } : {}),
    };
  }

  private endMs(list: readonly ResponseFuture[], finished: boolean): number {
    if (!finished) return Date.now();
    let end = 0;
    for (const f of list) end = Math.max(end, f.stat("hostResultDoneMs") ?? f.stat("hostStatusDoneMs") ?? 0);
    return end > 0 ? end : Date.now();
  }

  /**
   * A call ended: send now when the calls all ended (last update) or when counts changed and the
   * rate allows; otherwise the ticker sends it within {@link MIN_INTERVAL_MS}.
   */
  changed(): void {
    if (this.ended) return;
    const payload = this.payload();
    if (payload.finished || (!sameCounts(this.lastCounts, payload) && Date.now() - this.lastSentMs >= MIN_INTERVAL_MS)) this.send(payload);
  }

  /**
   * Send the final update now although calls may still run (the kernel shuts down).
   * @param reason - why, shown as `stopped: <reason>` when calls had not ended
   */
  stop(reason: string): void {
    if (this.ended) return;
    this.stopped = reason;
    this.send(this.payload());
  }

  private tick(): void {
    if (this.ended) return;
    const payload = this.payload();
    const due = !sameCounts(this.lastCounts, payload) || Date.now() - this.lastSentMs >= IDLE_REFRESH_MS;
    if (payload.finished || (due && Date.now() - this.lastSentMs >= MIN_INTERVAL_MS)) this.send(payload);
  }

  private send(payload: ProgressPayload): void {
    this.lastSentMs = Date.now();
    this.lastCounts = payload;
    try {
      this.handle.update(progressBundle(payload));
    } catch {
      this.end(); // the kernel went away or the cell can no longer take output: stop quietly
      return;
    }
    if (payload.finished) this.end();
  }

  private end(): void {
    this.ended = true;
    clearInterval(this.ticker);
  }
}

/** The latest display of each job (`executorId-jobId`), so waits in one cell share it. */
const displays = new Map<string, JobProgressDisplay>();

function displayFor(sink: DisplaySink, key: string, futures: readonly ResponseFuture[]): JobProgressDisplay | undefined {
  const token = sink.cellToken();
  const existing = displays.get(key);
  if (existing && token !== undefined && existing.cellToken === token) {
    if (existing.finished) return undefined;
    existing.add(futures);
    return existing;
  }
  if (existing && futures.every((f) => f.done)) return undefined;
  const created = new JobProgressDisplay(sink, futures);
  displays.set(key, created);
  return created;
}

/** Progress of one wait in a notebook: the displays of the jobs it waits on. */
export class NotebookProgress implements ProgressDisplay {
  private readonly jobs: JobProgressDisplay[] = [];

  /**
   * @param sink - where displays go (from `notebookSink()`)
   * @param futures - the futures waited on, of one or more jobs
   */
  constructor(sink: DisplaySink, futures: readonly ResponseFuture[]) {
    const byJob = new Map<string, ResponseFuture[]>();
    for (const f of futures) {
      const key = jobKey(f);
      const list = byJob.get(key);
      if (list) list.push(f);
      else byJob.set(key, [f]);
    }
    for (const [key, list] of byJob) {
      const display = displayFor(sink, key, list);
      if (display) this.jobs.push(display);
    }
  }

  /** The job displays this wait shows. */
  get displays(): readonly JobProgressDisplay[] {
    return this.jobs;
  }

  update(): void {
    for (const job of this.jobs) job.changed();
  }

  /** Send the final update of every job whose calls all ended; the others keep updating. */
  stop(): void {
    this.update();
  }
}

/**
 * Send the final update of every live display (the kernel shuts down cleanly): displays whose
 * calls had not ended say `stopped: <reason>`.
 * @param reason - e.g. `kernel shut down`
 */
export function stopLiveDisplays(reason: string): void {
  for (const display of displays.values()) display.stop(reason);
}
