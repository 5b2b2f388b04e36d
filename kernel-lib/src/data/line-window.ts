/**
 * Line-aligned reading of one part of an object.
 *
 * The rule: a part owns exactly the lines that START inside its nominal range `[start, end)`
 * (a line starts at offset 0 or right after a "\n"). Reading a part yields the bytes from the
 * first line start >= `start` through the end of the line that contains byte `end - 1` (up to
 * and including the next "\n", or to the end of the object). Consecutive parts therefore tile the
 * object exactly: every byte, hence every line, is read by exactly one part, and a line longer
 * than a chunk lands whole in the part where it starts (the parts it spans are empty).
 *
 * One ranged read covers `[start - 1, end - 1 + LOOKAHEAD_BYTES]`; only when the last line runs
 * past that are further ranged reads made (64 KiB, doubling up to 8 MiB).
 */
import { Readable } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import { asError } from "../errors.js";

/** Opens the inclusive byte range `[start, endInclusive]` of an object as a byte stream. */
export type RangeOpener = (start: number, endInclusive: number) => Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array>>;

/** Bytes read past the nominal end in the first request, to find the end of the last line. */
export const LOOKAHEAD_BYTES = 16 * 1024;
/** Size of the first follow-up ranged read when the last line is longer than the lookahead. */
export const CONTINUE_BYTES = 64 * 1024;
const MAX_CONTINUE_BYTES = 8 * 1024 * 1024;
const NEWLINE = 0x0a;

/** Tracks which received bytes belong to the part. */
class LineWindow {
  private phase: "seek" | "body" | "done";

  constructor(
    private readonly start: number,
    private readonly end: number,
  ) {
    this.phase = start === 0 ? "body" : "seek";
  }

  /** Offset of the first byte to read: `start - 1` tells whether a line starts at `start`. */
  get firstByte(): number {
    return this.start === 0 ? 0 : this.start - 1;
  }

  get done(): boolean {
    return this.phase === "done";
  }

  /** Take the bytes `buf` found at absolute offset `pos`; returns the ones the part owns. */
  feed(buf: Uint8Array, pos: number): Uint8Array | undefined {
    let from = 0;
    if (this.phase === "seek") {
      // A line starts in [start, end) iff a "\n" sits in [start - 1, end - 2].
      const limit = Math.min(buf.length, this.end - 1 - pos);
      const nl = limit > 0 ? buf.subarray(0, limit).indexOf(NEWLINE) : -1;
      if (nl < 0) {
        if (pos + buf.length >= this.end - 1) this.phase = "done";
        return undefined;
      }
      from = nl + 1;
      this.phase = "body";
    }
    if (this.phase !== "body") return undefined;
    // Bytes before end - 1 are ours; from end - 1 on, up to and including the next "\n".
    const searchFrom = Math.max(from, this.end - 1 - pos);
    const nl = searchFrom < buf.length ? buf.indexOf(NEWLINE, searchFrom) : -1;
    if (nl < 0) return buf.subarray(from);
    this.phase = "done";
    return buf.subarray(from, nl + 1);
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Read the lines a part owns (see the module docs), as a stream of byte chunks.
 * @param open - ranged reader of the object
 * @param size - object size (reads never go past it)
 * @param start - nominal start of the part
 * @param end - nominal end (exclusive) of the part
 * @returns the part's bytes, in order
 */
export async function* readLineAligned(open: RangeOpener, size: number, start: number, end: number): AsyncGenerator<Buffer> {
  if (start >= end || start >= size) return;
  const window = new LineWindow(start, end);
  let pos = window.firstByte;
  let last = Math.min(size - 1, end - 1 + LOOKAHEAD_BYTES);
  let step = CONTINUE_BYTES;
  while (!window.done && pos < size) {
    const from = pos;
    for await (const chunk of await open(pos, last)) {
      const owned = window.feed(chunk, pos);
      pos += chunk.length;
      if (owned !== undefined && owned.length > 0) yield asBuffer(owned);
      if (window.done) break;
    }
    // A read may return less than asked (a server capping ranges): go on from where it stopped.
    // One that returns nothing means the object is shorter than listed: its end is here.
    if (pos === from) break;
    last = Math.min(size - 1, Math.max(last, pos + step - 1));
    step = Math.min(step * 2, MAX_CONTINUE_BYTES);
  }
}

/** A byte stream that calls `read` when it wants data and `release` when it is destroyed. */
function pullStream(read: () => void, release: () => void): Readable {
  return new Readable({
    highWaterMark: 1 << 20,
    read,
    destroy(err, callback) {
      release();
      callback(err);
    },
  });
}

/**
 * The same bytes as {@link readLineAligned}, as a byte stream fed straight from the ranged reads'
 * streams (no promise per chunk: data jobs stream gigabytes through here).
 */
export function lineAlignedStream(open: RangeOpener, size: number, start: number, end: number): Readable {
  const window = new LineWindow(start, end);
  let pos = window.firstByte;
  let last = Math.min(size - 1, end - 1 + LOOKAHEAD_BYTES);
  let step = CONTINUE_BYTES;
  let source: Readable | undefined;
  let opening = false;
  const out = pullStream(
    () => {
      if (source !== undefined) source.resume();
      else if (!opening) next();
    },
    () => source?.destroy(),
  );
  const next = (): void => {
    if (start >= end || start >= size || window.done || pos >= size) {
      out.push(null);
      return;
    }
    opening = true;
    const from = pos;
    open(pos, last).then((body) => {
      opening = false;
      if (out.destroyed) return;
      const src = body instanceof Readable ? body : Readable.from(body, { objectMode: false });
      source = src;
      src.on("data", (chunk: Uint8Array) => {
        const owned = window.feed(chunk, pos);
        pos += chunk.length;
        if (owned !== undefined && owned.length > 0 && !out.push(asBuffer(owned))) src.pause();
        if (window.done) {
          src.destroy();
          source = undefined;
          out.push(null);
        }
      });
      src.on("error", (err) => out.destroy(err));
      src.on("end", () => {
        if (source !== src) return;
        source = undefined;
        // A read may return less than asked (a server capping ranges): go on from where it
        // stopped. One that returns nothing means the object is shorter than listed.
        if (pos === from) {
          out.push(null);
          return;
        }
        last = Math.min(size - 1, Math.max(last, pos + step - 1));
        step = Math.min(step * 2, MAX_CONTINUE_BYTES);
        next();
      });
    }, (err: unknown) => {
      opening = false;
      out.destroy(asError(err));
    });
  };
  return out;
}

function stripCr(line: string): string {
  return line.endsWith("\r") ? line.slice(0, -1) : line;
}

/**
 * Split UTF-8 bytes into lines: each line without its "\n" and without one trailing "\r"
 * (so "\r\n" files give clean lines). An empty input gives no lines; a final line without "\n"
 * is yielded; the empty string after a final "\n" is not.
 * @param chunks - bytes in order
 * @returns the lines
 */
export async function* splitLines(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new StringDecoder("utf8");
  let pending: string[] = [];
  for await (const chunk of chunks) {
    const text = decoder.write(chunk);
    const nl = text.indexOf("\n");
    if (nl < 0) {
      pending.push(text);
      continue;
    }
    const lines = text.split("\n");
    pending.push(lines[0] ?? "");
    yield stripCr(pending.join(""));
    pending = [lines[lines.length - 1] ?? ""];
    for (let i = 1; i < lines.length - 1; i++) yield stripCr(lines[i] ?? "");
  }
  const rest = pending.join("") + decoder.end();
  if (rest !== "") yield stripCr(rest);
}
