/**
 * Monte Carlo estimate of pi, for example_dags/monte_carlo.py: each call throws `samples` darts
 * with its own seeded generator (so a run is reproducible), the reducer adds the hits up.
 */

/** One call's share of the work. */
export interface Batch {
  seed: number;
  samples: number;
}

/** Hits inside the quarter circle out of `samples` throws. */
export interface Hits {
  hits: number;
  samples: number;
}

/** mulberry32: a small seeded generator of floats in [0, 1). */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Throws the batch's darts. */
export function throwDarts(batch: Batch): Hits {
  const random = generator(batch.seed);
  let hits = 0;
  for (let i = 0; i < batch.samples; i++) {
    const x = random();
    const y = random();
    if (x * x + y * y < 1) hits++;
  }
  return { hits, samples: batch.samples };
}

/** The estimate of pi over every batch. */
export function estimatePi(results: Hits[]): { pi: number; samples: number } {
  const hits = results.reduce((sum, r) => sum + r.hits, 0);
  const samples = results.reduce((sum, r) => sum + r.samples, 0);
  return { pi: (4 * hits) / samples, samples };
}
