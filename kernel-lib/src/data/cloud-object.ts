/**
 * `CloudObject`: what a function of a data job receives, one part of one object. Whatever way
 * the function reads it (`lines()`, `stream()`, `text()`, `bytes()`), it sees exactly the lines
 * that start inside the part's byte range, each whole (see `line-window.ts`), so over all parts
 * every line of the object is seen exactly once, in order, and the concatenation of `text()`
 * (or `bytes()`) over all parts equals the object. Each read method reads the part anew.
 * With `lineAligned: false` a part is exactly its byte range instead (lines may be cut).
 */
import * as fs from "node:fs/promises";
import { Readable } from "node:stream";
import { ErrorCodes, TswrenError } from "../errors.js";
import type { StorageBackend } from "../storage/backend.js";
import { readUrl } from "./http.js";
import { lineAlignedStream, readLineAligned, splitLines } from "./line-window.js";
import type { RangeOpener } from "./line-window.js";
import type { PartSpec } from "./partitioner.js";
import { redactUrl } from "./source.js";

function required(value: string | undefined, field: string, spec: PartSpec): string {
  if (typeof value !== "string" || value === "") {
    throw new TswrenError(ErrorCodes.PROTOCOL, `part spec of kind "${spec.kind}" has no ${field}`);
  }
  return value;
}

function checkSpec(spec: PartSpec): void {
  const ints = [spec.start, spec.end, spec.part, spec.totalParts, spec.objectIndex];
  if (!["storage", "url", "file"].includes(spec.kind) || !ints.every((n) => Number.isSafeInteger(n)) || !Number.isSafeInteger(spec.size)) {
    throw new TswrenError(ErrorCodes.PROTOCOL, `malformed part spec ${JSON.stringify(spec)}`);
  }
}

async function openFile(file: string, start?: number, end?: number): Promise<Readable> {
  try {
    const handle = await fs.open(file, "r");
    return handle.createReadStream({ start, end, autoClose: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw new TswrenError(ErrorCodes.NO_SUCH_KEY, `no file at ${file} (it was there when the job was partitioned)`, { cause: err });
    }
    throw err;
  }
}

/** One part of one object, handed to the function of a data job. */
export class CloudObject {
  /** Bucket of the object (storage objects). */
  readonly bucket?: string;
  /** Key of the object (storage objects). */
  readonly key?: string;
  /** URL of the object (http(s) objects). */
  readonly url?: string;
  /** Absolute local path of the file (local files, localhost backend). */
  readonly path?: string;
  /** 1-based part number within the object. */
  readonly part: number;
  /** Number of parts of this object. */
  readonly totalParts: number;
  /** Size in bytes of the whole object (not the part); -1 when a URL's server did not tell. */
  readonly size: number;
  /** Index of the object within the job's objects. */
  readonly objectIndex: number;
  /** Nominal byte range `[start, end)` of this part (the lines starting in it are read). */
  readonly range: { readonly start: number; readonly end: number };
  readonly #spec: PartSpec;
  readonly #storage: StorageBackend;

  /** @internal use {@link openPart} */
  constructor(spec: PartSpec, storage: StorageBackend) {
    checkSpec(spec);
    this.#spec = spec;
    this.#storage = storage;
    if (spec.kind === "storage") {
      this.bucket = required(spec.bucket, "bucket", spec);
      this.key = required(spec.key, "key", spec);
    } else if (spec.kind === "url") this.url = required(spec.url, "url", spec);
    else this.path = required(spec.path, "path", spec);
    this.part = spec.part;
    this.totalParts = spec.totalParts;
    this.size = spec.size;
    this.objectIndex = spec.objectIndex;
    this.range = Object.freeze({ start: spec.start, end: spec.end });
  }

  /** True when the part is exactly its byte range (`lineAligned: false`): lines may be cut. */
  get exact(): boolean {
    return this.#spec.lineAligned === false;
  }

  /** True when this part is the whole object (it is then read without byte ranges). */
  get whole(): boolean {
    const { start, end, size } = this.#spec;
    return start === 0 && (size < 0 || end >= size);
  }

  /** Where the object lives, e.g. `s3://bucket/key` (URL query strings left out). */
  get name(): string {
    if (this.bucket !== undefined) return `s3://${this.bucket}/${this.key ?? ""}`;
    if (this.url !== undefined) return redactUrl(this.url);
    return this.path ?? "";
  }

  /**
   * The part's bytes as a byte stream (Buffers, not object mode).
   * @returns a readable stream; read errors (`TSWREN_NO_SUCH_KEY` when the object is gone,
   *   `TSWREN_HTTP`) are raised here for a whole object, or emitted by the stream for a part
   */
  async stream(): Promise<Readable> {
    if (this.whole) return this.#openWhole();
    const { size, start, end } = this.#spec;
    if (this.exact) return this.#openExact();
    return lineAlignedStream(this.#opener(), size, start, end);
  }

  /**
   * The part's bytes.
   * @returns the bytes, from the first line start in the range through the end of its last line
   */
  async bytes(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this.#chunks()) parts.push(chunk);
    return parts.length === 1 && parts[0] !== undefined ? parts[0] : Buffer.concat(parts);
  }

  /**
   * The part's text, decoded as UTF-8.
   * @returns the text; over all parts these concatenate to the whole object
   */
  async text(): Promise<string> {
    return (await this.bytes()).toString("utf8");
  }

  /**
   * The part's lines, each without its "\n" and without one trailing "\r".
   * @returns the lines, in order
   * @example
   * let words = 0;
   * for await (const line of obj.lines()) words += line.split(/\s+/).filter(Boolean).length;
   */
  lines(): AsyncIterable<string> {
    return splitLines(this.#chunks());
  }

  /** Same as {@link CloudObject.lines}: `for await (const line of obj)`. */
  [Symbol.asyncIterator](): AsyncIterator<string> {
    return this.lines()[Symbol.asyncIterator]();
  }

  /** A plain description (no data), for logs and results. */
  toJSON(): Record<string, unknown> {
    return { name: this.name, part: this.part, totalParts: this.totalParts, size: this.size, start: this.range.start, end: this.range.end };
  }

  /** E.g. `CloudObject(s3://bucket/key, part 2/5)`. */
  toString(): string {
    return `CloudObject(${this.name}, part ${this.part}/${this.totalParts})`;
  }

  async *#chunks(): AsyncGenerator<Buffer> {
    if (this.whole) {
      for await (const chunk of await this.#openWhole()) yield chunk as Buffer;
      return;
    }
    const { size, start, end } = this.#spec;
    if (this.exact) {
      for await (const chunk of await this.#openExact()) yield chunk as Buffer;
      return;
    }
    yield* readLineAligned(this.#opener(), size, start, end);
  }

  /** The bytes `[start, end)` exactly. */
  async #openExact(): Promise<Readable> {
    const { start, end } = this.#spec;
    if (end <= start) return Readable.from([], { objectMode: false });
    const source = await this.#opener()(start, end - 1);
    return source instanceof Readable ? source : Readable.from(source, { objectMode: false });
  }

  #openWhole(): Promise<Readable> {
    if (this.bucket !== undefined && this.key !== undefined) return this.#storage.getStream(this.bucket, this.key);
    if (this.url !== undefined) return readUrl(this.url);
    return openFile(this.path ?? "");
  }

  #opener(): RangeOpener {
    const { bucket, key, url } = this;
    if (bucket !== undefined && key !== undefined) return (start, end) => this.#storage.getStream(bucket, key, { start, end });
    if (url !== undefined) return (start, end) => readUrl(url, { start, end }, this.size);
    const file = this.path ?? "";
    return (start, end) => openFile(file, start, end);
  }
}

/**
 * Worker side: the {@link CloudObject} for one part spec made by `partition()`.
 * @param spec - the part spec (plain data, as sent to the worker)
 * @param storage - the worker's storage backend (used for `storage` parts)
 * @returns the object to hand to the function
 * @throws TswrenError `TSWREN_PROTOCOL` for a malformed spec
 */
export function openPart(spec: PartSpec, storage: StorageBackend): CloudObject {
  return new CloudObject(spec, storage);
}
