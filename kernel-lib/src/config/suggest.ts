/** "Did you mean …?" for misspelled config sections, keys and enum values. */

/**
 * Edit distance counting insertions, deletions, substitutions and swaps of neighbours.
 * @param a - one string
 * @param b - the other string
 * @returns the number of edits turning `a` into `b`
 */
export function editDistance(a: string, b: string): number {
  // d[i][j] = distance between the first i chars of a and the first j chars of b
  const d = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/**
 * The snake_case spelling of a camelCase, PascalCase or kebab-case name.
 * @example toSnakeCase("storageBucket") // "storage_bucket"
 */
export function toSnakeCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[-\s]+/g, "_")
    .toLowerCase();
}

/** How many edits still count as a misspelling of a name this long. */
function tolerance(length: number): number {
  return length <= 3 ? 1 : Math.max(2, Math.floor(length / 3));
}

/**
 * The candidate the user most likely meant by `name`: the same name in snake_case or another
 * case, else the nearest by edit distance within a tolerance, else the only candidate having
 * `name` as one of its `_`-separated words (`bucket` → `storage_bucket`).
 * @param name - what the user wrote
 * @param candidates - the valid names
 * @returns the suggestion, or undefined when nothing is close
 */
export function closestName(name: string, candidates: readonly string[]): string | undefined {
  const wanted = toSnakeCase(name);
  const exact = candidates.find((c) => c === wanted || c.toLowerCase() === name.toLowerCase());
  if (exact !== undefined) return exact;
  let best: string | undefined;
  let bestDistance = tolerance(wanted.length) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(wanted, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== undefined) return best;
  const byWord = candidates.filter((c) => c.split("_").includes(wanted));
  return byWord.length === 1 ? byWord[0] : undefined;
}
