/**
 * The stats of every call of a job in one Float64Array (one row of timestamps and durations per call),
 * so 100,000 futures cost a few MB instead of 100,000 objects with their own hidden classes.
 */
import { setDurations, type CallStats } from "../protocol.js";

const FIELDS = [
  "hostJobCreateMs",
  "hostSubmitMs",
  "workerStartMs",
  "workerFuncStartMs",
  "workerFuncEndMs",
  "workerEndMs",
  "hostStatusDoneMs",
  "hostResultDoneMs",
  "workerExecMs",
  "workerFuncExecMs",
] as const satisfies ReadonlyArray<keyof CallStats>;

/** A stats field name. */
export type StatsField = (typeof FIELDS)[number];

const COLUMN: Record<StatsField, number> = Object.fromEntries(FIELDS.map((f, i) => [f, i])) as Record<StatsField, number>;

/** Timestamps of all calls of one job; unset values are NaN. */
export class StatsTable {
  private readonly cells: Float64Array;

  /** @param calls - number of calls in the job */
  constructor(calls: number) {
    this.cells = new Float64Array(calls * FIELDS.length).fill(Number.NaN);
  }

  /** Set one timestamp of one call. */
  set(index: number, field: StatsField, ms: number): void {
    this.cells[index * FIELDS.length + COLUMN[field]] = ms;
  }

  /** Set one timestamp of every call (a whole job submitted at once: one strided pass). */
  setAll(field: StatsField, ms: number): void {
    const width = FIELDS.length;
    for (let i = COLUMN[field]; i < this.cells.length; i += width) this.cells[i] = ms;
  }

  /** One timestamp of one call, or undefined when not set yet. */
  get(index: number, field: StatsField): number | undefined {
    const v = this.cells[index * FIELDS.length + COLUMN[field]];
    return Number.isNaN(v) ? undefined : v;
  }

  /** Copy the worker-side timestamps of a status into a call's row. */
  setWorkerStats(index: number, stats: CallStats): void {
    for (const f of ["workerStartMs", "workerFuncStartMs", "workerFuncEndMs", "workerEndMs", "workerExecMs", "workerFuncExecMs"] as const) {
      const v = stats[f];
      if (v !== undefined) this.set(index, f, v);
    }
  }

  /** The stats of one call as an object (only the timestamps taken so far). */
  row(index: number): CallStats {
    const out: CallStats = { hostJobCreateMs: this.get(index, "hostJobCreateMs") ?? 0, hostSubmitMs: this.get(index, "hostSubmitMs") ?? 0 };
    for (const f of FIELDS.slice(2)) {
      const v = this.get(index, f);
      if (v !== undefined) out[f] = v;
    }
    if (out.workerExecMs === undefined || out.workerFuncExecMs === undefined) setDurations(out);
    return out;
  }
}
