/**
 * The data partitioner: turns an {@link ObjectsInput} into part specs, one per call, before
 * anything is invoked.
 *
 * Rules:
 * - Object order: a bucket / prefix / directory expands to its objects in lexicographic key
 *   order; explicit lists keep the order given. `objectIndex` numbers the objects in that order.
 * - `chunkSize` C: an object of size S has `ceil(S / C)` parts with nominal byte ranges
 *   `[i*C, min(S, (i+1)*C))`.
 * - `chunkNumber` N (wins when both are set): exactly `min(N, S)` parts of near-equal size
 *   (`[floor(i*S/N), floor((i+1)*S/N))`). Cutting at multiples of `ceil(S / N)` instead could
 *   give fewer parts than asked (S = 9, N = 4 gives 3), so the split is even instead.
 * - Neither set: one part per object, read whole. A URL whose server does not accept byte ranges
 *   (or does not tell its size) is always one whole part.
 * - A zero-byte object is one (empty) part, so every object reaches the function (and its
 *   reducer, with `reducerOnePerObject`).
 * - A part owns the lines that start inside its nominal range; see `line-window.ts`. Parts may
 *   therefore be empty (a line longer than a chunk lands whole in the part where it starts).
 * - `lineAligned: false` (Lithops' `obj_newline = None`): a part is exactly its byte range
 *   `[start, end)`, with no line alignment; lines may then be cut between two parts.
 */
import { ErrorCodes, TswrenError } from "../errors.js";
import type { StorageBackend } from "../storage/backend.js";
import { isObjectsInput } from "./objects.js";
import type { ObjectsInput } from "./objects.js";
import { resolveSources } from "./resolve.js";
import type { ObjectLocation, ResolvedObject } from "./resolve.js";

/** One part of one object: what one call reads. Plain, serializable data. */
export interface PartSpec extends ObjectLocation {
  /** Nominal byte range `[start, end)` of this part; the part reads the lines starting in it. */
  start: number;
  end: number;
  /** 1-based part number within the object. */
  part: number;
  totalParts: number;
  /** Index of the object in job order (for one reducer per object). */
  objectIndex: number;
  /** The object can be read by byte range. */
  rangesSupported?: boolean;
  /** `false`: the part is exactly `[start, end)`, lines are not kept whole (absent: aligned). */
  lineAligned?: boolean;
}

/** Where partitioning runs. */
export interface PartitionEnv {
  /** The configured storage backend (for `s3://` / `cos://` sources). */
  storage: StorageBackend;
  /** True only on the localhost backend: local paths are allowed. */
  localFiles: boolean;
}

/** How to split objects; see the module docs. */
export interface ChunkOptions {
  /** Bytes per part. */
  chunkSize?: number;
  /** Parts per object (wins over `chunkSize`). */
  chunkNumber?: number;
  /** `false`: parts are exact byte ranges, not moved to line boundaries (default true). */
  lineAligned?: boolean;
}

function checkWhole(name: string, value: unknown, what: string): void {
  if (value === undefined) return;
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 1) {
    const got = typeof value === "number" ? String(value) : `a ${typeof value}`;
    throw new TswrenError(ErrorCodes.BAD_OPTION, `options.${name} must be a whole number >= 1 (${what}); got ${got}`);
  }
}

/**
 * Check `chunkSize` / `chunkNumber`.
 * @param chunk - the options
 * @throws TswrenError `TSWREN_BAD_OPTION` when either is not a whole number >= 1
 */
export function validateChunkOptions(chunk: ChunkOptions): void {
  checkWhole("chunkSize", chunk.chunkSize, "bytes per part, e.g. 64 << 20 for 64 MiB");
  checkWhole("chunkNumber", chunk.chunkNumber, "parts per object");
  if (chunk.lineAligned !== undefined && typeof chunk.lineAligned !== "boolean") {
    throw new TswrenError(ErrorCodes.BAD_OPTION, `options.lineAligned must be true or false (false: exact byte ranges, lines may be cut); got ${typeof chunk.lineAligned}`);
  }
}

/**
 * Nominal byte ranges `[start, end)` of the parts of one object.
 * @param size - object size in bytes (-1 when unknown)
 * @param chunk - validated chunk options
 * @param rangesSupported - false gives one whole part
 * @returns one `[start, end)` pair per part, in order
 */
export function partRanges(size: number, chunk: ChunkOptions, rangesSupported = true): Array<[number, number]> {
  const { chunkSize, chunkNumber } = chunk;
  if (size <= 0 || !rangesSupported || (chunkSize === undefined && chunkNumber === undefined)) return [[0, size]];
  if (chunkNumber !== undefined) return evenRanges(size, Math.min(chunkNumber, size));
  const step = chunkSize ?? size;
  const count = Math.ceil(size / step);
  return Array.from({ length: count }, (_, i): [number, number] => [i * step, Math.min(size, (i + 1) * step)]);
}

function evenRanges(size: number, count: number): Array<[number, number]> {
  const q = Math.floor(size / count);
  const r = size % count;
  // floor(i * size / count) without overflowing for huge sizes
  const at = (i: number): number => i * q + Math.floor((i * r) / count);
  return Array.from({ length: count }, (_, i): [number, number] => [at(i), at(i + 1)]);
}

function location(o: ResolvedObject): Pick<PartSpec, "kind" | "bucket" | "key" | "url" | "path"> {
  switch (o.kind) {
    case "storage":
      return { kind: o.kind, bucket: o.bucket ?? "", key: o.key ?? "" };
    case "url":
      return { kind: o.kind, url: o.url ?? "" };
    case "file":
      return { kind: o.kind, path: o.path ?? "" };
  }
}

/**
 * Split the objects of `input` into parts, resolving every source first (listing prefixes,
 * HEAD of keys and URLs, stat of files), so every bad input fails here, before any invocation.
 * @param input - from `objects()`
 * @param env - storage backend, and whether local paths are allowed
 * @param chunk - `chunkSize` / `chunkNumber` (neither: one part per object)
 * @returns the parts in job order: objects in order, parts 1..totalParts within each
 * @throws TswrenError `TSWREN_BAD_OPTION` (chunk options), `TSWREN_NO_SUCH_BUCKET`,
 *   `TSWREN_NO_SUCH_KEY` (missing key, file or URL), `TSWREN_BAD_INPUT` (empty prefix, bucket or
 *   directory; local path off the localhost backend), `TSWREN_HTTP` (unreachable URL)
 */
export async function partition(input: ObjectsInput, env: PartitionEnv, chunk: ChunkOptions): Promise<PartSpec[]> {
  validateChunkOptions(chunk);
  if (!isObjectsInput(input)) throw new TswrenError(ErrorCodes.BAD_INPUT, "partition() needs the result of objects(source)");
  const resolved = await resolveSources(input.sources, env);
  const specs: PartSpec[] = [];
  const alignment = chunk.lineAligned === false ? { lineAligned: false } : {};
  resolved.forEach((o, objectIndex) => {
    const ranges = partRanges(o.size, chunk, o.rangesSupported);
    ranges.forEach(([start, end], i) => {
      specs.push({ ...location(o), size: o.size, start, end, part: i + 1, totalParts: ranges.length, objectIndex, rangesSupported: o.rangesSupported, ...alignment });
    });
  });
  return specs;
}
