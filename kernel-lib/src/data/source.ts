/**
 * Parsing of data source strings given to `objects()`: object storage (`s3://`, `cos://`),
 * http(s) URLs and local paths. Parsing is pure (no I/O); resolving a source to objects and sizes
 * is done by `resolve.ts` when the job is partitioned.
 */
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { ErrorCodes, TswrenError } from "../errors.js";

/** All objects of a bucket whose key starts with `prefix` (plain string prefix; `""` = all). */
export interface PrefixSource {
  readonly kind: "prefix";
  readonly bucket: string;
  readonly prefix: string;
  /** The source as the user wrote it, for messages. */
  readonly text: string;
}

/** One object of a bucket, named by its full key. */
export interface KeySource {
  readonly kind: "key";
  readonly bucket: string;
  readonly key: string;
  readonly text: string;
}

/** One http(s) URL. */
export interface UrlSource {
  readonly kind: "url";
  readonly url: string;
  readonly text: string;
}

/** A local file, or every file under a local directory (localhost backend only). */
export interface PathSource {
  readonly kind: "path";
  /** Absolute path, resolved against the client's working directory when `objects()` ran. */
  readonly path: string;
  readonly text: string;
}

/** One parsed data source. */
export type DataSource = PrefixSource | KeySource | UrlSource | PathSource;

/** URL schemes `objects()` accepts. */
export const ACCEPTED_SCHEMES = ["s3", "cos", "http", "https", "file"] as const;

const SCHEME_RE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

function badInput(message: string): TswrenError {
  return new TswrenError(ErrorCodes.BAD_INPUT, message);
}

function acceptedList(): string {
  return ACCEPTED_SCHEMES.map((s) => `${s}://`).join(", ");
}

function parseBucketUrl(text: string, scheme: string): PrefixSource | KeySource {
  const rest = text.slice(scheme.length + 3);
  const slash = rest.indexOf("/");
  const bucket = slash < 0 ? rest : rest.slice(0, slash);
  if (bucket === "") {
    throw badInput(`data source ${JSON.stringify(text)} names no bucket: write ${scheme}://BUCKET, ${scheme}://BUCKET/PREFIX/ or ${scheme}://BUCKET/KEY`);
  }
  const keyPart = slash < 0 ? "" : rest.slice(slash + 1);
  if (keyPart === "" || keyPart.endsWith("/")) return { kind: "prefix", bucket, prefix: keyPart, text };
  return { kind: "key", bucket, key: keyPart, text };
}

function parseHttpUrl(text: string): UrlSource {
  try {
    return { kind: "url", url: new URL(text).href, text };
  } catch (cause) {
    throw new TswrenError(ErrorCodes.BAD_INPUT, `data source ${JSON.stringify(redactUrl(text))} is not a valid URL`, { cause });
  }
}

function parseFileUrl(text: string): PathSource {
  try {
    return { kind: "path", path: fileURLToPath(text), text };
  } catch (cause) {
    throw new TswrenError(ErrorCodes.BAD_INPUT, `data source ${JSON.stringify(text)} is not a valid file:// URL: write file:///absolute/path`, { cause });
  }
}

function looksLikeLocalPath(text: string): boolean {
  return text.startsWith("/") || text.startsWith("./") || text.startsWith("../") || text === "." || text === "..";
}

/**
 * Parse one source string.
 * @param text - e.g. `s3://bucket/prefix/`, `cos://bucket/key`, `https://host/file.csv`,
 *   `/abs/file`, `./rel/dir`, `file:///abs/file`
 * @param cwd - directory that relative paths are resolved against
 * @returns the parsed source
 * @throws TswrenError `TSWREN_BAD_INPUT` for an unknown scheme, a missing bucket, a malformed URL
 *   or a plain `bucket/prefix` without scheme
 */
export function parseSource(text: string, cwd: string): DataSource {
  if (text === "") throw badInput(`data source "" is empty: write s3://BUCKET/PREFIX/, an http(s) URL or a local path`);
  const scheme = SCHEME_RE.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (looksLikeLocalPath(text)) return { kind: "path", path: path.resolve(cwd, text), text };
    throw badInput(
      `data source ${JSON.stringify(text)} has no scheme: write "s3://${text}" for object storage, ` +
        `or "./${text}" for a local path (accepted: ${acceptedList()}, /absolute or ./relative paths)`,
    );
  }
  switch (scheme) {
    case "s3":
    case "cos":
      return parseBucketUrl(text, scheme);
    case "http":
    case "https":
      return parseHttpUrl(text);
    case "file":
      return parseFileUrl(text);
    default:
      throw badInput(`data source ${JSON.stringify(redactUrl(text))} has unknown scheme "${scheme}://": accepted are ${acceptedList()} and local paths`);
  }
}

/**
 * A URL fit for messages and logs: the query string and fragment (which carry signatures in
 * pre-signed URLs) and any user:password are dropped.
 * @param url - any URL text
 * @returns the redacted text
 */
export function redactUrl(url: string): string {
  const cut = url.search(/[?#]/);
  const base = cut < 0 ? url : `${url.slice(0, cut)}?…`;
  return base.replace(/^([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^/@]*@/, "$1…@");
}
