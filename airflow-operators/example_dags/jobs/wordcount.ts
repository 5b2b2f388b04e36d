/**
 * Word count over the objects of a bucket, for example_dags/wordcount.py: each call counts the
 * words of one part of an object, the reducer merges the counts.
 */

/** The part of an object a data-job call receives (tswren's `CloudObject`). */
export interface ObjectPart {
  key: string;
  text(): Promise<string>;
}

/** Word counts of one part. */
export async function countWords(part: ObjectPart): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const word of (await part.text()).toLowerCase().match(/[a-z0-9']+/g) ?? []) {
    counts[word] = (counts[word] ?? 0) + 1;
  }
  return counts;
}

/** Merged counts of every part, and the total number of words. */
export function mergeCounts(parts: Record<string, number>[]): { total: number; counts: Record<string, number> } {
  const counts: Record<string, number> = {};
  let total = 0;
  for (const part of parts) {
    for (const [word, n] of Object.entries(part)) {
      counts[word] = (counts[word] ?? 0) + n;
      total += n;
    }
  }
  return { total, counts };
}
