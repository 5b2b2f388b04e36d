/**
 * Content-addressed uploads of one executor (function bundles, npm module bundles): each key is
 * written once, and written again when it has gone from storage since.
 */
import { ErrorCodes, TswrenError } from "../errors.js";
import type { StorageBackend } from "../storage/backend.js";

/** The storage an upload goes to. */
export interface UploadTarget {
  storage: StorageBackend;
  storageRef: { bucket: string };
}

/** The keys one executor has uploaded, so each content hash travels once. */
export class ContentUploads {
  private readonly uploaded = new Set<string>();

  /**
   * Upload a content-addressed object unless it is already there. One uploaded earlier is
   * checked with a HEAD: job data deleted under a live executor (`tswren clean` from another
   * shell, a lifecycle rule) is uploaded again instead of failing every later job with "no object".
   * @param target - the storage and bucket
   * @param key - the object's key (named by its content hash)
   * @param body - the content
   */
  async upload(target: UploadTarget, key: string, body: Uint8Array | string): Promise<void> {
    if (this.uploaded.has(key) && (await stillStored(target, key))) return;
    await target.storage.put(target.storageRef.bucket, key, body);
    this.uploaded.add(key);
  }

  /** Forget every upload (after the executor's keys were deleted). */
  clear(): void {
    this.uploaded.clear();
  }
}

async function stillStored(target: UploadTarget, key: string): Promise<boolean> {
  try {
    await target.storage.head(target.storageRef.bucket, key);
    return true;
  } catch (err) {
    if (err instanceof TswrenError && err.code === ErrorCodes.NO_SUCH_KEY) return false;
    throw err;
  }
}
