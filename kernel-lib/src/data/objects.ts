/**
 * `objects(source)`: the iterdata of a data job. It names where the data lives; the client
 * partitions it into parts (see `partitioner.ts`) just before invoking, and each call receives a
 * `CloudObject` for one part.
 */
import { ErrorCodes, TswrenError } from "../errors.js";
import { parseSource, redactUrl } from "./source.js";
import type { DataSource } from "./source.js";

const BRAND = Symbol.for("tswren.ObjectsInput");
const CREATE = Symbol("ObjectsInput.create");

/**
 * Data sources to run a function over, created by {@link objects}. Pass it to `map` or
 * `mapReduce` in place of a list of inputs.
 */
export class ObjectsInput {
  /** The parsed sources, in the order given. */
  readonly sources: readonly DataSource[];
  /** @internal brand, so `isObjectsInput` works across copies of the library */
  readonly [BRAND] = true;

  /** @internal use {@link objects} */
  constructor(token: symbol, sources: readonly DataSource[]) {
    if (token !== CREATE) throw new TswrenError(ErrorCodes.BAD_INPUT, "use objects(source) to create an ObjectsInput");
    this.sources = Object.freeze([...sources]);
  }

  /** The sources as the user wrote them (URLs redacted), for messages. */
  toString(): string {
    return `objects(${this.sources.map((s) => JSON.stringify(s.kind === "url" ? redactUrl(s.text) : s.text)).join(", ")})`;
  }
}

/**
 * True when `value` is an {@link ObjectsInput} (also one made by another copy of tswren).
 * @param value - anything
 * @returns whether it is data-job input
 */
export function isObjectsInput(value: unknown): value is ObjectsInput {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * Name the data a function runs over. Each object is split into parts by the `chunkSize` /
 * `chunkNumber` options of `map` / `mapReduce`, and each call gets a `CloudObject` for one part
 * whose lines are whole: every line of every object is seen exactly once, in order.
 *
 * Accepted sources (one string, or an array mixing them):
 * - `s3://bucket` — every object of the bucket; `s3://bucket/prefix/` (ends with `/`) — every
 *   object whose key starts with `prefix/` (plain string prefix); both in lexicographic key order
 * - `s3://bucket/key` — one object; `cos://…` is the same as `s3://…` (the configured store)
 * - `https://…` / `http://…` — one object per URL (HEAD gives the size; split only when the
 *   server accepts byte ranges)
 * - `/abs/path`, `./rel/path`, `file:///abs/path` — a local file, or every file under a local
 *   directory in lexicographic order (localhost backend only); relative paths are resolved now,
 *   against the current working directory
 *
 * Explicit lists keep the order given; a prefix or directory entry expands in place.
 * @param source - one source or a list of them
 * @returns the input to pass to `map` / `mapReduce`
 * @throws TswrenError `TSWREN_BAD_INPUT` for an unknown scheme (naming the accepted ones), a
 *   `bucket/prefix` without `s3://`, an empty list or a non-string entry
 * @example
 * await fx.map(wordCount, objects("s3://logs/2024/"), { chunkSize: 64 << 20 });
 * await fx.map(countLines, objects(["https://example.org/a.csv", "https://example.org/b.csv"]));
 */
export function objects(source: string | readonly string[]): ObjectsInput {
  const list: readonly unknown[] = typeof source === "string" ? [source] : Array.isArray(source) ? (source as readonly unknown[]) : [source];
  if (list.length === 0) {
    throw new TswrenError(ErrorCodes.BAD_INPUT, "objects([]) got an empty list: name at least one s3:// bucket, key or prefix, URL or local path");
  }
  const cwd = process.cwd();
  const parsed = list.map((item, i) => {
    if (typeof item !== "string") {
      throw new TswrenError(ErrorCodes.BAD_INPUT, `objects(): source${typeof source === "string" ? "" : `[${i}]`} is a ${typeof item}, not a string`);
    }
    return parseSource(item, cwd);
  });
  return new ObjectsInput(CREATE, parsed);
}
