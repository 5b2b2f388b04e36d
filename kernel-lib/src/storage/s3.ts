/**
 * S3 storage: any S3-compatible store (AWS S3, IBM COS, MinIO, Ceph) through
 * `@aws-sdk/client-s3`. One client per backend, with a keep-alive agent sized for parallel ranged
 * reads, short connect timeouts and few retries, so a dead endpoint fails in seconds.
 *
 * Choices that keep every S3-compatible store working: checksums only where the API requires them
 * (`DeleteObjects` gets `Content-MD5`), path-style addressing for MinIO and IBM COS, and IBM COS
 * API keys sent as IAM bearer tokens instead of SigV4 signatures.
 */
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { PassThrough, Readable } from "node:stream";
import { inspect, type InspectOptions } from "node:util";
import {
  CreateBucketCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadBucketCommand,
  HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type { FinalizeRequestMiddleware } from "@smithy/types";
import { ErrorCodes, TswrenError } from "../errors.js";
import type { ByteRange, ObjectInfo, StorageBackend, StorageCapabilities } from "./backend.js";
import { IbmIamTokenProvider } from "./ibm-iam.js";
import { putStream } from "./s3-multipart.js";
import type { S3StorageOptions } from "./s3-config.js";
import { toStorageError, type S3ErrorContext } from "./s3-errors.js";
import { showOnly } from "../security/opaque.js";

export { s3StorageOptions, type S3StorageOptions, type S3StorageOverrides, type S3Section } from "./s3-config.js";

const DEFAULT_MAX_SOCKETS = 64;
const DEFAULT_CONNECT_TIMEOUT_MS = 3_000;
const DEFAULT_SOCKET_TIMEOUT_MS = 20_000;
const DEFAULT_MAX_ATTEMPTS = 3;
/** Most keys one `DeleteObjects` request may carry. */
const DELETE_BATCH = 1000;
/** `DeleteObjects` requests in flight at once. */
const DELETE_PARALLEL = 4;
/** The longest key S3 accepts, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024;

function httpStatus(err: unknown): number | undefined {
  const status = (err as { $metadata?: { httpStatusCode?: unknown } } | null)?.$metadata?.httpStatusCode;
  return typeof status === "number" ? status : undefined;
}

function errorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}

function rangeHeader(range: ByteRange | undefined): string | undefined {
  if (range === undefined) return undefined;
  return `bytes=${range.start}-${range.end === undefined ? "" : String(range.end)}`;
}

function checkKey(key: string): void {
  if (key === "" || Buffer.byteLength(key) > MAX_KEY_BYTES) {
    throw new TswrenError(ErrorCodes.BAD_KEY, `storage key ${JSON.stringify(key.slice(0, 80))} is not valid for S3: use 1 to ${MAX_KEY_BYTES} bytes of UTF-8`);
  }
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks);
}

function asReadable(body: unknown): Readable {
  if (body instanceof Readable) return body;
  throw new TswrenError(ErrorCodes.STORAGE, "the S3 client returned a body that is not a Node stream");
}

function byKey(a: ObjectInfo, b: ObjectInfo): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function stripQuotes(etag: string | undefined): string | undefined {
  return etag?.replace(/^"|"$/g, "");
}

/** A stream of `body` whose errors are mapped by `mapError`; destroying it releases `body`. */
function mappedStream(body: Readable, mapError: (err: unknown) => Error): Readable {
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  body.on("error", (err) => out.destroy(mapError(err)));
  out.on("close", () => {
    if (!body.destroyed) body.destroy();
  });
  body.pipe(out);
  return out;
}

/** A middleware that replaces the SigV4 signature with an IBM IAM bearer token. */
function bearerMiddleware<Input extends object, Output extends object>(iam: IbmIamTokenProvider): FinalizeRequestMiddleware<Input, Output> {
  return (next) => async (args) => {
    const token = await iam.token();
    const request = args.request as { headers?: Record<string, string> } | null;
    if (request?.headers !== undefined) {
      request.headers["authorization"] = `Bearer ${token}`;
      delete request.headers["x-amz-security-token"];
    }
    return next(args);
  };
}

/** An S3-compatible object store. Create it with {@link s3StorageOptions} from a config section. */
export class S3Storage implements StorageBackend {
  readonly name: string;
  readonly capabilities: StorageCapabilities = { local: false };
  /** The S3 client (exposed for tools and tests; tswren code uses the methods). */
  readonly client: S3Client;
  /** The IAM token source when the store uses an IBM API key. */
  readonly iam: IbmIamTokenProvider | undefined;
  private readonly options: S3StorageOptions;
  private readonly endpointText: string;
  private readonly knownBuckets = new Set<string>();

  /**
   * @param options - from {@link s3StorageOptions}
   * @example
   * ```ts
   * const s3 = new S3Storage(s3StorageOptions("minio", { endpoint, access_key_id, secret_access_key }));
   * await s3.put("bucket", "key", "value");
   * ```
   */
  constructor(options: S3StorageOptions) {
    showOnly(this, "S3Storage", () => ({ name: this.name, endpoint: this.endpointText }));
    this.options = options;
    this.name = options.section;
    this.endpointText = options.endpoint ?? `AWS S3 (region ${options.region})`;
    // tswren pins the SDK and supports Node 20: the SDK's "upgrade to Node 22" notice is noise in
    // notebooks. An explicit setting of the variable is kept.
    process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] ??= "true";
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? DEFAULT_MAX_SOCKETS };
    const config: S3ClientConfig = {
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      requestHandler: new NodeHttpHandler({
        httpAgent: new HttpAgent(agentOptions),
        httpsAgent: new HttpsAgent(agentOptions),
        connectionTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
        socketTimeout: options.socketTimeoutMs ?? DEFAULT_SOCKET_TIMEOUT_MS,
      }),
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    };
    const creds = options.credentials;
    if (creds.kind === "static") {
      const { accessKeyId, secretAccessKey, sessionToken } = creds;
      config.credentials = { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) };
    }
    // The bearer middleware replaces the signature; SigV4 still needs some keys to run.
    if (creds.kind === "ibm-iam") config.credentials = { accessKeyId: "ibm-iam-bearer", secretAccessKey: "unused" };
    this.client = new S3Client(config);
    if (creds.kind === "ibm-iam") {
      this.iam = new IbmIamTokenProvider({ apiKey: creds.apiKey, section: options.section, ...(creds.tokenUrl === undefined ? {} : { tokenUrl: creds.tokenUrl }) });
      this.client.middlewareStack.addRelativeTo(bearerMiddleware(this.iam), {
        name: "tswrenIbmIamBearer",
        relation: "after",
        toMiddleware: "httpSigningMiddleware",
      });
    }
  }
  /** What `console.log` and notebooks show: store and endpoint, never the credentials in the client. */
  [inspect.custom](_depth: number, options: InspectOptions): string {
    return `S3Storage ${inspect({ name: this.name, endpoint: this.endpointText }, options)}`;
  }


  private fail(err: unknown, op: string, bucket?: string, key?: string): TswrenError {
    const ctx: S3ErrorContext = {
      section: this.options.section,
      endpoint: this.endpointText,
      credentialKeys: this.options.credentialKeys,
      op,
      ...(bucket === undefined ? {} : { bucket }),
      ...(key === undefined ? {} : { key }),
    };
    return toStorageError(err, ctx);
  }

  async put(bucket: string, key: string, body: Uint8Array | string): Promise<void> {
    checkKey(key);
    try {
      await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    } catch (err) {
      throw this.fail(err, "put", bucket, key);
    }
  }

  async putStream(bucket: string, key: string, body: Readable): Promise<void> {
    checkKey(key);
    try {
      await putStream(this.client, bucket, key, body);
    } catch (err) {
      throw this.fail(err, "putStream", bucket, key);
    }
  }

  async get(bucket: string, key: string, range?: ByteRange): Promise<Buffer> {
    checkKey(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: rangeHeader(range) }));
      return await readAll(asReadable(out.Body));
    } catch (err) {
      // A range that starts at or past the end: the same empty read as localhost storage.
      if (range !== undefined && httpStatus(err) === 416) return Buffer.alloc(0);
      throw this.fail(err, "get", bucket, key);
    }
  }

  async getStream(bucket: string, key: string, range?: ByteRange): Promise<Readable> {
    checkKey(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: rangeHeader(range) }));
      return mappedStream(asReadable(out.Body), (err) => this.fail(err, "getStream", bucket, key));
    } catch (err) {
      if (range !== undefined && httpStatus(err) === 416) return Readable.from([]);
      throw this.fail(err, "getStream", bucket, key);
    }
  }

  async head(bucket: string, key: string): Promise<ObjectInfo> {
    checkKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      const etag = stripQuotes(out.ETag);
      return { key, size: out.ContentLength ?? 0, lastModifiedMs: out.LastModified?.getTime() ?? 0, ...(etag === undefined ? {} : { etag }) };
    } catch (err) {
      // HEAD answers carry no error body: a 404 may mean a missing key or a missing bucket.
      if (httpStatus(err) === 404 && !(await this.bucketExists(bucket))) {
        throw this.fail({ name: "NoSuchBucket", message: "no such bucket" }, "head", bucket, key);
      }
      throw this.fail(err, "head", bucket, key);
    }
  }

  async list(bucket: string, prefix: string): Promise<ObjectInfo[]> {
    const out: ObjectInfo[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix === "" ? undefined : prefix, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) {
          if (o.Key === undefined) continue;
          const etag = stripQuotes(o.ETag);
          out.push({ key: o.Key, size: o.Size ?? 0, lastModifiedMs: o.LastModified?.getTime() ?? 0, ...(etag === undefined ? {} : { etag }) });
        }
        token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
    } catch (err) {
      throw this.fail(err, "list", bucket);
    }
    // S3 orders by UTF-8 bytes; tswren orders like JavaScript string comparison (as localhost does).
    return out.sort(byKey);
  }

  async delete(bucket: string, key: string): Promise<void> {
    checkKey(key);
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    } catch (err) {
      throw this.fail(err, "delete", bucket, key);
    }
  }

  async deleteMany(bucket: string, keys: readonly string[]): Promise<void> {
    const unique = [...new Set(keys)];
    unique.forEach(checkKey);
    const batches: string[][] = [];
    for (let i = 0; i < unique.length; i += DELETE_BATCH) batches.push(unique.slice(i, i + DELETE_BATCH));
    for (let i = 0; i < batches.length; i += DELETE_PARALLEL) {
      await Promise.all(batches.slice(i, i + DELETE_PARALLEL).map((batch) => this.deleteBatch(bucket, batch)));
    }
  }

  private async deleteBatch(bucket: string, keys: string[]): Promise<void> {
    let errors;
    try {
      const out = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
          // Content-MD5: the header every S3-compatible store accepts for this request.
          ChecksumAlgorithm: "MD5",
        }),
      );
      errors = (out.Errors ?? []).filter((e) => e.Code !== "NoSuchKey");
    } catch (err) {
      throw this.fail(err, "deleteMany", bucket);
    }
    const first = errors[0];
    if (first !== undefined) {
      const failure = { name: first.Code ?? "DeleteError", message: first.Message ?? "" };
      throw new TswrenError(
        this.fail(failure, "deleteMany", bucket, first.Key).code,
        `deleteMany in bucket ${JSON.stringify(bucket)} (${this.options.section} storage at ${this.endpointText}): ${errors.length} of ${keys.length} keys were not deleted, first ${JSON.stringify(first.Key)}: ${first.Code ?? "error"} ${first.Message ?? ""}`.trim(),
      );
    }
  }

  async bucketExists(bucket: string): Promise<boolean> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: bucket }));
      return true;
    } catch (err) {
      if (httpStatus(err) === 404 || errorName(err) === "NoSuchBucket" || errorName(err) === "NotFound") return false;
      throw this.fail(err, "bucketExists", bucket);
    }
  }

  async ensureBucket(bucket: string): Promise<void> {
    if (this.knownBuckets.has(bucket)) return;
    if (!(await this.bucketExists(bucket))) await this.createBucket(bucket);
    this.knownBuckets.add(bucket);
  }

  private async createBucket(bucket: string): Promise<void> {
    const { region, createBucketWithRegion } = this.options;
    try {
      await this.client.send(
        new CreateBucketCommand({
          Bucket: bucket,
          ...(createBucketWithRegion ? { CreateBucketConfiguration: { LocationConstraint: region as "us-east-2" } } : {}),
        }),
      );
    } catch (err) {
      const name = errorName(err);
      if (name === "BucketAlreadyOwnedByYou") return;
      if (name === "BucketAlreadyExists") {
        throw new TswrenError(
          ErrorCodes.STORAGE,
          `bucket name ${JSON.stringify(bucket)} is taken by another account (${this.options.section} storage at ${this.endpointText}); choose another tswren.storage_bucket`,
          { cause: err },
        );
      }
      throw this.fail(err, "ensureBucket", bucket);
    }
  }

  close(): Promise<void> {
    this.knownBuckets.clear();
    this.client.destroy();
    return Promise.resolve();
  }
}
