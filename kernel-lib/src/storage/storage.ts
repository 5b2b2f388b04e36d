/**
 * `Storage`: the user-facing client of the object store, used from notebooks and from inside
 * functions (`ctx.storage`). It wraps one {@link StorageBackend} with a default bucket.
 */
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { inspect, type InspectOptions } from "node:util";
import { ErrorCodes, TswrenError } from "../errors.js";
import type { ByteRange, ObjectInfo, StorageBackend } from "./backend.js";
import { executorPrefix } from "./keys.js";

/**
 * A reference to an object in storage, to pass data between calls by reference: return it from
 * one call and read it in another with `ctx.storage.getCloudObject(ref)`. Plain data, so it
 * travels as an input or a result.
 */
export interface CloudObjectRef {
  readonly backend: string;
  readonly bucket: string;
  readonly key: string;
}

/** Where temporary objects of one executor live (deleted by its `clean()`). */
export interface StorageScope {
  prefix: string;
  executorId: string;
}

/** Options of {@link Storage.get}. */
export interface GetOptions {
  /** Read only these bytes (inclusive end), like `Range: bytes=start-end`. */
  range?: ByteRange;
}

/** What {@link Storage.headBucket} tells about an existing bucket. */
export interface BucketInfo {
  /** The bucket's name. */
  readonly bucket: string;
  /** The storage backend holding it, e.g. `minio`, `localhost`. */
  readonly backend: string;
}

/**
 * Object storage client bound to one backend and a default bucket.
 * @example
 * await ctx.storage.put("results/part-1.txt", "hello");
 * const text = (await ctx.storage.get("results/part-1.txt")).toString();
 */
export class Storage {
  /** The bucket used when a call names none. */
  readonly bucket: string;
  /** @internal */
  readonly backend: StorageBackend;
  private readonly scope: StorageScope | undefined;

  /**
   * @param backend - the storage backend to use
   * @param bucket - the default bucket
   * @param scope - the executor whose `clean()` deletes the cloud objects put through this client
   */
  constructor(backend: StorageBackend, bucket: string, scope?: StorageScope) {
    this.backend = backend;
    this.bucket = bucket;
    this.scope = scope;
  }

  /** Name of the storage backend, e.g. `localhost`. */
  get backendName(): string {
    return this.backend.name;
  }

  /** What `console.log` and notebooks show: backend and bucket, never the backend's credentials. */
  [inspect.custom](_depth: number, options: InspectOptions): string {
    return `Storage ${inspect(this.toJSON(), options)}`;
  }

  /** What `JSON.stringify` shows: backend and bucket, never the backend's credentials. */
  toJSON(): { backend: string; bucket: string } {
    return { backend: this.backend.name, bucket: this.bucket };
  }

  /**
   * Write an object (atomically). A `Readable` may be of any length, unknown in advance: on S3
   * stores it is uploaded in 8 MiB parts (multipart upload, aborted when the stream fails).
   * @example
   * await storage.put("logs/big.txt", createReadStream("big.txt"));
   */
  put(key: string, body: Uint8Array | string | Readable, bucket = this.bucket): Promise<void> {
    if (body instanceof Readable) return this.backend.putStream(bucket, key, body);
    return this.backend.put(bucket, key, body);
  }

  /**
   * Check that a bucket exists (Lithops' `head_bucket`).
   * @returns the bucket's name and backend
   * @throws TswrenError `TSWREN_NO_SUCH_BUCKET` when it does not exist (credential and
   *   connection errors as for any storage call)
   */
  async headBucket(bucket = this.bucket): Promise<BucketInfo> {
    if (!(await this.backend.bucketExists(bucket))) {
      throw new TswrenError(ErrorCodes.NO_SUCH_BUCKET, `bucket ${JSON.stringify(bucket)} does not exist in ${this.backend.name} storage; create it or name another bucket`);
    }
    return { bucket, backend: this.backend.name };
  }

  /** Read an object or a byte range of it. @throws TswrenError `TSWREN_NO_SUCH_KEY` */
  get(key: string, options: GetOptions = {}, bucket = this.bucket): Promise<Buffer> {
    return this.backend.get(bucket, key, options.range);
  }

  /** Read an object or a byte range of it as a stream. */
  getStream(key: string, options: GetOptions = {}, bucket = this.bucket): Promise<Readable> {
    return this.backend.getStream(bucket, key, options.range);
  }

  /** Metadata of an object. @throws TswrenError `TSWREN_NO_SUCH_KEY` */
  head(key: string, bucket = this.bucket): Promise<ObjectInfo> {
    return this.backend.head(bucket, key);
  }

  /** Keys under a prefix (plain string prefix), in lexicographic order. */
  async listKeys(prefix = "", bucket = this.bucket): Promise<string[]> {
    return (await this.backend.list(bucket, prefix)).map((o) => o.key);
  }

  /** Objects (key, size, modification time) under a prefix, in lexicographic key order. */
  listObjects(prefix = "", bucket = this.bucket): Promise<ObjectInfo[]> {
    return this.backend.list(bucket, prefix);
  }

  /** Delete one object; a missing key is not an error. */
  delete(key: string, bucket = this.bucket): Promise<void> {
    return this.backend.delete(bucket, key);
  }

  /** Delete many objects; missing keys are ignored. */
  deleteMany(keys: readonly string[], bucket = this.bucket): Promise<void> {
    return this.backend.deleteMany(bucket, keys);
  }

  /**
   * Store `body` and return a reference to it. Without `key`, the object goes under the
   * executor's temporary prefix and is deleted by its `clean()`.
   * @example
   * const ref = await ctx.storage.putCloudObject(JSON.stringify(partial));
   * return ref; // a later call: (await ctx.storage.getCloudObject(ref)).toString()
   */
  async putCloudObject(body: Uint8Array | string, key?: string, bucket = this.bucket): Promise<CloudObjectRef> {
    const scope = this.scope === undefined ? "tswren.cloudobjects/" : `${executorPrefix(this.scope.prefix, this.scope.executorId)}cloudobjects/`;
    const finalKey = key ?? `${scope}${Date.now().toString(36)}-${randomBytes(6).toString("hex")}`;
    await this.backend.put(bucket, finalKey, body);
    return { backend: this.backend.name, bucket, key: finalKey };
  }

  /** Read the object a {@link CloudObjectRef} points to. @throws TswrenError `TSWREN_NO_SUCH_KEY` */
  getCloudObject(ref: CloudObjectRef, options: GetOptions = {}): Promise<Buffer> {
    return this.backend.get(ref.bucket, ref.key, options.range);
  }

  /** Delete the objects some {@link CloudObjectRef}s point to. */
  async deleteCloudObjects(refs: readonly CloudObjectRef[]): Promise<void> {
    const byBucket = new Map<string, string[]>();
    for (const r of refs) byBucket.set(r.bucket, [...(byBucket.get(r.bucket) ?? []), r.key]);
    for (const [bucket, keys] of byBucket) await this.backend.deleteMany(bucket, keys);
  }
}
