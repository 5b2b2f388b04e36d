/** Deleting everything one executor wrote: its bundles, its jobs' folders and its job records. */
import type { Backends } from "../executor-backends.js";
import * as keys from "../storage/keys.js";

/**
 * Delete every key under the executor's prefixes (never other data), after storing the status
 * records the compute backend still holds (so none is written after the sweep).
 * @returns how many objects were deleted
 */
export async function cleanExecutorKeys(b: Pick<Backends, "compute" | "storage" | "storageRef">, executorId: string): Promise<number> {
  await b.compute.capabilities.statusRecords?.flush(executorId);
  const { bucket, prefix } = b.storageRef;
  const prefixes = Object.values(keys.executorKeyPrefixes(prefix, executorId));
  const sweep = b.storage.capabilities.prefixDelete;
  let deleted = 0;
  for (const p of prefixes) {
    if (sweep !== undefined) {
      deleted += await sweep.deletePrefix(bucket, p);
      continue;
    }
    const found = await b.storage.list(bucket, p);
    await b.storage.deleteMany(bucket, found.map((o) => o.key));
    deleted += found.length;
  }
  return deleted;
}
