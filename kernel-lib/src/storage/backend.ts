/**
 * The storage plug-point: one interface every object store implements (localhost directory,
 * S3-compatible stores). Methods are asynchronous and keyed by bucket + key, so remote stores fit
 * as well as the local one.
 */
import type { Readable } from "node:stream";

/** Metadata of one stored object. */
export interface ObjectInfo {
  key: string;
  size: number;
  lastModifiedMs: number;
  etag?: string;
}

/** An inclusive byte range, like HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  /** Inclusive end; omitted means to the end of the object. */
  end?: number;
}

/** What a storage backend can do beyond the required methods (declared, never probed). */
export interface StorageCapabilities {
  /** The store lives on this machine's file system (workers share it without credentials). */
  local: boolean;
  /**
   * Deleting everything under a key prefix in one sweep (localhost: one recursive removal per
   * folder). Without it, callers list the prefix and `deleteMany` the keys.
   */
  prefixDelete?: {
    /**
     * @param bucket - the bucket
     * @param prefix - non-empty plain key prefix
     * @returns how many objects were deleted
     */
    deletePrefix(bucket: string, prefix: string): Promise<number>;
  };
}

/** One object store. Implementations live one per module, registered in `registry.ts`. */
export interface StorageBackend {
  /** Backend name as used in config, e.g. `localhost`, `s3`. */
  readonly name: string;
  readonly capabilities: StorageCapabilities;
  /** Write an object atomically: readers see the old object or the whole new one. */
  put(bucket: string, key: string, body: Uint8Array | string): Promise<void>;
  /**
   * Write an object from a stream of unknown length (atomically, like {@link put}); the stream
   * is consumed. S3 stores upload it in parts (multipart upload).
   */
  putStream(bucket: string, key: string, body: Readable): Promise<void>;
  /**
   * Read an object (or a byte range of it).
   * @throws TswrenError `TSWREN_NO_SUCH_KEY` / `TSWREN_NO_SUCH_BUCKET`
   */
  get(bucket: string, key: string, range?: ByteRange): Promise<Buffer>;
  /** Read an object (or a byte range of it) as a stream. */
  getStream(bucket: string, key: string, range?: ByteRange): Promise<Readable>;
  /** Metadata of one object. @throws TswrenError `TSWREN_NO_SUCH_KEY` */
  head(bucket: string, key: string): Promise<ObjectInfo>;
  /** Objects whose key starts with `prefix` (plain string prefix), in lexicographic key order. */
  list(bucket: string, prefix: string): Promise<ObjectInfo[]>;
  /** Delete one object; deleting a missing key is not an error. */
  delete(bucket: string, key: string): Promise<void>;
  /** Delete many objects; missing keys are ignored. */
  deleteMany(bucket: string, keys: readonly string[]): Promise<void>;
  /** True when the bucket exists. */
  bucketExists(bucket: string): Promise<boolean>;
  /** Create the bucket when missing. */
  ensureBucket(bucket: string): Promise<void>;
  /** Release connections and timers. */
  close(): Promise<void>;
}
