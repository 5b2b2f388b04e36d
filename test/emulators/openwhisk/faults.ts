/**
 * Fault injection for invoke requests from a declared table ({@link OpenWhiskFaults}): a sequence
 * consumed one entry per invoke, then rates drawn from a seeded PRNG, so a test that issues its
 * invokes in a fixed order sees the same faults on every run.
 */
import type { OpenWhiskFaultKind, OpenWhiskFaults } from "./types.js";

/**
 * mulberry32: a small, well-distributed 32-bit PRNG.
 * @param seed - any integer
 * @returns a function giving numbers in [0, 1)
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The rate-driven faults, in the order their numbers are drawn. */
const RATED: readonly (readonly [keyof OpenWhiskFaults, OpenWhiskFaultKind])[] = [
  ["random429Rate", "429"],
  ["dropConnectionRate", "drop"],
  ["dropAfterAcceptRate", "drop-after-accept"],
  ["neverFinishRate", "never-finish"],
];

/** Decides the fault of each invoke request. */
export class FaultInjector {
  private table: OpenWhiskFaults = {};
  private random: () => number = seededRandom(1);
  private position = 0;

  /**
   * Replace the table; the sequence and the PRNG start over.
   * @param faults - the new table
   * @throws RangeError for a rate outside [0, 1]
   */
  set(faults: OpenWhiskFaults): void {
    for (const [key] of RATED) {
      const rate = faults[key];
      if (rate !== undefined && (typeof rate !== "number" || rate < 0 || rate > 1)) {
        throw new RangeError(`faults.${key} must be a number in [0, 1], got ${String(rate)}`);
      }
    }
    this.table = { ...faults };
    this.random = seededRandom(faults.seed ?? 1);
    this.position = 0;
  }

  /**
   * The fault for the next invoke request. Every rate draws a number whether or not an earlier
   * one fired, so one rate's outcome does not shift the others.
   * @returns the fault kind, `"none"` to serve the request normally
   */
  next(): OpenWhiskFaultKind {
    const sequence = this.table.sequence ?? [];
    if (this.position < sequence.length) return sequence[this.position++] ?? "none";
    let chosen: OpenWhiskFaultKind = "none";
    for (const [key, kind] of RATED) {
      const rate = this.table[key];
      if (typeof rate !== "number" || rate === 0) continue;
      if (this.random() < rate && chosen === "none") chosen = kind;
    }
    return chosen;
  }
}
