/**
 * Content-addressed uploads of one executor (function bundles, npm module bundles): each key is
 * written once, and written again when it has gone from storage since.
 */
import type { Backends } from "../executor-backends.js";
import { stillStored } from "./staging.js";

/** The keys one executor has uploaded, so each content hash travels once. */
export class ContentUploads {
  private readonly uploaded = new Set<string>();

  /**
   * Upload a content-addressed object (function bundle, module) unless it is already there. One
   * uploaded earlier is checked with a HEAD: job data deleted under a live executor (`tswren
   * clean` from another shell, a lifecycle rule) is uploaded again instead of failing every
   * later job with "no object".
   * @param b - the executor's backends (storage and bucket)
   * @param key - the object's key (named by its content hash)
   * @param body - the content
   */
  async upload(b: Backends, key: string, body: Uint8Array | string): Promise<void> {
    if (this.uploaded.has(key) && (await stillStored(b, key))) return;
    await b.storage.put(b.storageRef.bucket, key, body);
    this.uploaded.add(key);
  }

  /** Forget every upload (after the executor's keys were deleted). */
  clear(): void {
    this.uploaded.clear();
  }
}
