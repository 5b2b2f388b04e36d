/** The data cleaner: deletes every key one executor wrote (never other data). */
import type { Backends } from "./executor-backends.js";
import * as keys from "./storage/keys.js";

/**
 * Store the executor's pending status records (so none is written after the sweep), then delete
 * its own folder and every `<executorId>-<jobId>/` folder.
 * @param b - the executor's started backends
 * @param executorId - whose data to delete
 * @returns how many objects were deleted
 */
export async function cleanExecutorData(b: Pick<Backends, "compute" | "storage" | "storageRef">, executorId: string): Promise<number> {
  await b.compute.capabilities.statusRecords?.flush(executorId);
  const { own, jobs } = keys.executorKeyPrefixes(b.storageRef.prefix, executorId);
  const sweep = b.storage.capabilities.prefixDelete;
  if (sweep !== undefined) return (await sweep.deletePrefix(b.storageRef.bucket, own)) + (await sweep.deletePrefix(b.storageRef.bucket, jobs));
  const found = [...(await b.storage.list(b.storageRef.bucket, own)), ...(await b.storage.list(b.storageRef.bucket, jobs))];
  await b.storage.deleteMany(b.storageRef.bucket, found.map((o) => o.key));
  return found.length;
}
