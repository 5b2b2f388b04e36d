/**
 * The emulator's activation store: finished activation records by id, waiters for blocking
 * invokes, and the list projection of `GET activations`.
 */
import type { ActivationRecord } from "./types.js";

/** Query of `GET activations`. */
export interface ActivationQuery {
  limit: number;
  skip: number;
  /** Action name (`name` or `pkg/name`) to filter on. */
  name?: string;
  /** Full records instead of summaries. */
  docs: boolean;
  /** Epoch ms bounds on `start`. */
  since?: number;
  upto?: number;
}

type Waiter = (record: ActivationRecord | undefined) => void;

/** Finished activations of one namespace, newest last. */
export class ActivationStore {
  private readonly records = new Map<string, ActivationRecord>();
  private readonly waiters = new Map<string, Set<Waiter>>();

  /**
   * Store a finished activation and wake its waiters.
   * @param record - the finished activation
   */
  complete(record: ActivationRecord): void {
    this.records.set(record.activationId, record);
    const waiting = this.waiters.get(record.activationId);
    this.waiters.delete(record.activationId);
    for (const wake of waiting ?? []) wake(record);
  }

  /**
   * A finished activation.
   * @param activationId - its id
   * @returns the record, or undefined while it runs (or if it never will)
   */
  get(activationId: string): ActivationRecord | undefined {
    return this.records.get(activationId);
  }

  /**
   * Wait for an activation to finish, at most `timeoutMs`.
   * @param activationId - its id
   * @param timeoutMs - the bound
   * @returns the record, or undefined when it did not finish in time
   */
  wait(activationId: string, timeoutMs: number): Promise<ActivationRecord | undefined> {
    const done = this.records.get(activationId);
    if (done) return Promise.resolve(done);
    return new Promise((resolve) => {
      const set = this.waiters.get(activationId) ?? new Set<Waiter>();
      this.waiters.set(activationId, set);
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      const finish: Waiter = (record) => {
        clearTimeout(timer);
        set.delete(finish);
        if (set.size === 0 && this.waiters.get(activationId) === set) this.waiters.delete(activationId);
        resolve(record);
      };
      set.add(finish);
    });
  }

  /** Wake every waiter with no record (the emulator is stopping). */
  abandonWaiters(): void {
    const all = [...this.waiters.values()];
    this.waiters.clear();
    for (const set of all) for (const wake of [...set]) wake(undefined);
  }

  /**
   * Newest first, as `GET activations` lists them; summaries unless `docs`.
   * @param query - filter and window
   * @returns one page
   */
  list(query: ActivationQuery): Record<string, unknown>[] {
    const matching = [...this.records.values()].filter((r) => matches(r, query)).reverse();
    const window = matching.slice(query.skip, query.skip + query.limit);
    return window.map((r) => (query.docs ? { ...r } : summary(r)));
  }

  /**
   * How many activations match a query (`?count=true`).
   * @param query - filter
   * @returns the count
   */
  count(query: ActivationQuery): number {
    let n = 0;
    for (const r of this.records.values()) if (matches(r, query)) n++;
    return n;
  }
}

function matches(record: ActivationRecord, query: ActivationQuery): boolean {
  if (query.since !== undefined && record.start < query.since) return false;
  if (query.upto !== undefined && record.start > query.upto) return false;
  if (query.name === undefined) return true;
  const path = record.annotations.find((a) => a.key === "path")?.value;
  const qualified = typeof path === "string" ? path.split("/").slice(1).join("/") : record.name;
  return query.name === record.name || query.name === qualified;
}

const SUMMARY_FIELDS = ["activationId", "namespace", "name", "version", "subject", "publish", "start", "end", "duration", "statusCode", "annotations"] as const;

function summary(record: ActivationRecord): Record<string, unknown> {
  return Object.fromEntries(SUMMARY_FIELDS.map((key) => [key, record[key]]));
}
