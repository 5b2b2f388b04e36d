/**
 * What calls cost: each call's billed duration (its time in the worker, rounded up to the
 * backend's `billing_ms`) times its memory in GB gives GB-seconds; GB-seconds times `price_gb_s`
 * plus `price_million_requests` / 1e6 per call gives US dollars. Prices come from the compute
 * backend's config section (list prices by default, 0 on your own machines; docs/cost.md).
 * Calls that never started in a worker are not billed. Retried calls count their last attempt.
 */
import type { ResponseFuture } from "./future.js";

/** The price keys every compute section has. */
export interface CostPrices {
  /** USD per GB-second. */
  price_gb_s: number;
  /** USD per million invocations. */
  price_million_requests: number;
  /** Billed durations are rounded up to a multiple of this many ms. */
  billing_ms: number;
}

/** The cost of a set of calls, from `fx.cost()`. */
export interface CostReport {
  /** Compute backend whose prices were used. */
  backend: string;
  /** Calls counted. */
  calls: number;
  /** Calls that ran in a worker (billed). */
  billedCalls: number;
  /** Sum of billed durations, seconds. */
  billedSeconds: number;
  /** Sum of billed duration x memory, GB-seconds. */
  gbSeconds: number;
  /** Total in US dollars. */
  usd: number;
  /** The prices used. */
  prices: CostPrices;
}

/** Billed milliseconds of one call, or null when it never ran in a worker. */
export function billedMs(future: ResponseFuture, billingMs: number): number | null {
  const exec = future.stat("workerExecMs");
  const start = future.stat("workerStartMs");
  const end = future.stat("workerEndMs");
  const ms = exec ?? (start !== undefined && end !== undefined ? end - start : undefined);
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return null;
  return Math.max(1, Math.ceil(ms / billingMs)) * billingMs;
}

/**
 * Cost of `futures` at `prices`.
 * @param memoryMbOf - the memory a call ran with (its job's), MB
 */
export function costOf(futures: readonly ResponseFuture[], prices: CostPrices, backend: string, memoryMbOf: (f: ResponseFuture) => number): CostReport {
  let billedCalls = 0;
  let billedSeconds = 0;
  let gbSeconds = 0;
  for (const f of futures) {
    const ms = billedMs(f, prices.billing_ms);
    if (ms === null) continue;
    billedCalls++;
    billedSeconds += ms / 1000;
    gbSeconds += (ms / 1000) * (memoryMbOf(f) / 1024);
  }
  const usd = gbSeconds * prices.price_gb_s + (billedCalls * prices.price_million_requests) / 1e6;
  const { price_gb_s, price_million_requests, billing_ms } = prices;
  return { backend, calls: futures.length, billedCalls, billedSeconds, gbSeconds, usd, prices: { price_gb_s, price_million_requests, billing_ms } };
}
