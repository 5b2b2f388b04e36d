/**
 * http(s) data sources: probing a URL for its size and byte-range support (client side, when
 * partitioning) and reading it whole or by byte range (worker side). Uses the global `fetch`.
 * URLs in messages are redacted (no query string: pre-signed URLs carry signatures there).
 */
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { ErrorCodes, TswrenError } from "../errors.js";
import type { ByteRange } from "../storage/backend.js";
import { redactUrl } from "./source.js";

/** What a probe learned about a URL. */
export interface UrlInfo {
  /** Size in bytes; -1 when the server did not tell. */
  size: number;
  /** The server answers `Range: bytes=a-b` with 206 (so the object can be split into parts). */
  rangesSupported: boolean;
}

/** A HEAD (or probing GET) that takes longer than this fails the partitioning step. */
const PROBE_TIMEOUT_MS = 30_000;

async function request(url: string, init: RequestInit, what: string): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch (cause) {
    const reason = cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause);
    throw new TswrenError(ErrorCodes.HTTP, `${what} ${redactUrl(url)} failed: ${reason}. Check that the URL is reachable from here`, { cause });
  }
}

function statusError(url: string, res: Response, what: string): TswrenError {
  const gone = res.status === 404 || res.status === 410;
  const code = gone ? ErrorCodes.NO_SUCH_KEY : ErrorCodes.HTTP;
  const hint = gone ? "the URL names no object" : "the server refused the request";
  return new TswrenError(code, `${what} ${redactUrl(url)} answered ${res.status} ${res.statusText}: ${hint}`);
}

function unsatisfiable(url: string, range: ByteRange, size: number): TswrenError {
  return new TswrenError(
    ErrorCodes.HTTP,
    `GET ${redactUrl(url)} with range bytes=${range.start}-${range.end ?? ""} answered 416 Range Not Satisfiable, ` +
      `although the server gave its size as ${size} bytes when the job was partitioned: the object changed or shrank ` +
      `since then, or the server does not serve byte ranges correctly; re-run the job, or read it whole (no chunkSize / chunkNumber)`,
  );
}

async function discard(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}

function contentLength(res: Response): number {
  const text = res.headers.get("content-length");
  const n = text === null ? Number.NaN : Number(text);
  return Number.isSafeInteger(n) && n >= 0 ? n : -1;
}

/** Parse `Content-Range: bytes a-b/size` (or `bytes *\/size`). */
function contentRange(res: Response): { start: number; size: number } | undefined {
  const m = /^bytes (?:(\d+)-\d+|\*)\/(\d+|\*)$/.exec(res.headers.get("content-range")?.trim() ?? "");
  if (m === null) return undefined;
  return { start: m[1] === undefined ? -1 : Number(m[1]), size: m[2] === "*" || m[2] === undefined ? -1 : Number(m[2]) };
}

/**
 * Find the size of a URL and whether it can be read by byte range: `HEAD` (size from
 * `Content-Length`, ranges when `Accept-Ranges: bytes`); when HEAD is refused (403, 405, 501, as
 * with pre-signed GET URLs) a `GET` of `bytes=0-0` instead.
 * @param url - an http(s) URL
 * @returns size (-1 when unknown) and range support
 * @throws TswrenError `TSWREN_NO_SUCH_KEY` on 404/410, `TSWREN_HTTP` on other errors or when the
 *   server cannot be reached
 */
export async function probeUrl(url: string): Promise<UrlInfo> {
  const res = await request(url, { method: "HEAD", signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) }, "HEAD");
  await discard(res);
  if (res.ok) {
    const size = contentLength(res);
    const ranges = /\bbytes\b/i.test(res.headers.get("accept-ranges") ?? "");
    return { size, rangesSupported: ranges && size >= 0 };
  }
  if (res.status === 403 || res.status === 405 || res.status === 501) return probeWithGet(url);
  throw statusError(url, res, "HEAD");
}

async function probeWithGet(url: string): Promise<UrlInfo> {
  const res = await request(url, { headers: { range: "bytes=0-0" }, signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) }, "GET");
  await discard(res);
  if (res.status === 206) {
    const size = contentRange(res)?.size ?? -1;
    return { size, rangesSupported: size >= 0 };
  }
  if (res.status === 200) return { size: contentLength(res), rangesSupported: false };
  if (res.status === 416) return { size: 0, rangesSupported: false };
  throw statusError(url, res, "GET");
}

function bodyStream(res: Response): Readable {
  if (res.body === null) return Readable.from([], { objectMode: false });
  return Readable.fromWeb(res.body as NodeReadableStream<Uint8Array>);
}

/** Skip the first `skip` bytes of `source` and stop after `length` bytes (all when undefined). */
async function* slice(source: Readable, skip: number, length: number | undefined): AsyncGenerator<Buffer> {
  let toSkip = skip;
  let left = length ?? Number.POSITIVE_INFINITY;
  for await (const chunk of source as AsyncIterable<Buffer>) {
    let buf = chunk;
    if (toSkip > 0) {
      const n = Math.min(toSkip, buf.length);
      toSkip -= n;
      buf = buf.subarray(n);
    }
    if (buf.length === 0) continue;
    if (buf.length >= left) {
      yield buf.subarray(0, left);
      return;
    }
    left -= buf.length;
    yield buf;
  }
}

/**
 * Read a URL, whole or one byte range of it. A server that ignores the `Range` header (answers
 * 200 with the whole body) still gives the right bytes: the unwanted ones are skipped.
 * @param url - an http(s) URL
 * @param range - inclusive byte range; omitted reads the whole object with a plain GET
 * @param advertisedSize - the size the server gave when the job was partitioned (-1: unknown); a
 *   416 for a range starting inside it is an error, past it an empty read
 * @returns the body as a stream of Buffers
 * @throws TswrenError `TSWREN_NO_SUCH_KEY` on 404/410, `TSWREN_HTTP` on other errors (also a 416
 *   inside the advertised size)
 */
export async function readUrl(url: string, range?: ByteRange, advertisedSize = -1): Promise<Readable> {
  const headers: Record<string, string> = range === undefined ? {} : { range: `bytes=${range.start}-${range.end ?? ""}` };
  const res = await request(url, { headers }, "GET");
  if (res.status === 200) {
    if (range === undefined) return bodyStream(res);
    const length = range.end === undefined ? undefined : range.end - range.start + 1;
    return Readable.from(slice(bodyStream(res), range.start, length), { objectMode: false });
  }
  if (range !== undefined && res.status === 206) {
    if (contentRange(res)?.start === range.start) return bodyStream(res);
    await discard(res);
    throw new TswrenError(ErrorCodes.HTTP, `GET ${redactUrl(url)} with range bytes=${range.start}- answered a different range (${res.headers.get("content-range") ?? "no Content-Range"})`);
  }
  await discard(res);
  if (range !== undefined && res.status === 416) {
    if (range.start < advertisedSize) throw unsatisfiable(url, range, advertisedSize);
    return Readable.from([], { objectMode: false });
  }
  throw statusError(url, res, "GET");
}
