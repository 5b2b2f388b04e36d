/**
 * The jobs an executor accepted, in submission order, and which of their futures were consumed:
 * what the no-argument forms of `getResult`, `wait` and `plot` look at. A submission refused
 * before anything was invoked is dropped as soon as it fails, so it leaves no trace.
 */
import type { ResponseFuture } from "./future.js";

/** One accepted (or still being submitted) job. */
interface Submission {
  /** True when `getResult()` of this job alone gives one value (callAsync, mapReduce with one reducer). */
  single: boolean;
  futures: Promise<ResponseFuture[]>;
}

/** Submissions of one executor. */
export class Submissions {
  private readonly list: Submission[] = [];
  /** The futures the last no-argument `getResult` consumed (what `plot()` shows when nothing is unread). */
  private lastConsumed: ResponseFuture[] = [];

  /**
   * Track a job being submitted; if the submission fails, it is forgotten.
   * @param single - see {@link Submission.single}
   */
  add(single: boolean, futures: Promise<ResponseFuture[]>): void {
    const entry: Submission = { single, futures };
    this.list.push(entry);
    futures.catch(() => {
      const i = this.list.indexOf(entry);
      if (i >= 0) this.list.splice(i, 1);
    });
  }

  /** The submission promises, for cancel and close (which wait for jobs still being submitted). */
  promises(): Array<Promise<ResponseFuture[]>> {
    return this.list.map((s) => s.futures);
  }

  /** True when the most recent accepted job gives one value (see {@link Submission.single}). */
  lastIsSingle(): boolean {
    return this.list.at(-1)?.single ?? false;
  }

  /** Every future of every accepted job, in submission order (jobs still being submitted are awaited; refused ones skipped). */
  async all(): Promise<ResponseFuture[]> {
    const out: ResponseFuture[] = [];
    for (const s of [...this.list]) {
      const settled = await Promise.allSettled([s.futures]);
      if (settled[0].status === "fulfilled") for (const f of settled[0].value) out.push(f);
    }
    return out;
  }

  /** Futures not consumed yet: their value was not returned, their error not thrown, they were not cancelled. */
  async unread(): Promise<ResponseFuture[]> {
    return (await this.all()).filter((f) => !f.read);
  }

  /** Remember what a `getResult` consumed. */
  consumed(futures: readonly ResponseFuture[]): void {
    if (futures.length > 0) this.lastConsumed = [...futures];
  }

  /** What `plot()` without futures shows: the futures not consumed yet, else the last ones consumed. */
  async forPlot(): Promise<ResponseFuture[]> {
    const unread = await this.unread();
    return unread.length > 0 ? unread : this.lastConsumed;
  }
}
