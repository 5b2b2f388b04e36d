/**
 * Resolving parsed data sources to concrete objects with sizes: storage listings and HEADs,
 * URL probes, local file stats. Runs on the client, before anything is invoked, so every missing
 * bucket, key, file or empty prefix is reported up front.
 */
import type { Stats } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { ErrorCodes, TswrenError, hasCode } from "../errors.js";
import type { StorageBackend } from "../storage/backend.js";
import { probeUrl } from "./http.js";
import type { DataSource, KeySource, PathSource, PrefixSource } from "./source.js";

/** Where one object lives and how big it is. */
export interface ObjectLocation {
  /** Object storage, an http(s) URL, or a local file. */
  kind: "storage" | "url" | "file";
  bucket?: string;
  key?: string;
  url?: string;
  /** Absolute local path (kind `file`). */
  path?: string;
  /** Size of the whole object in bytes; -1 when unknown (a URL whose server sent no length). */
  size: number;
}

/** One object to partition. */
export interface ResolvedObject extends ObjectLocation {
  /** The object can be read by byte range (always for storage and files). */
  rangesSupported: boolean;
}

/** Where sources are resolved. */
export interface ResolveEnv {
  storage: StorageBackend;
  /** Local paths are allowed (true only on the localhost backend, where workers share files). */
  localFiles: boolean;
}

/** HEADs / stats in flight at once while resolving explicit lists. */
const RESOLVE_CONCURRENCY = 16;

/**
 * Resolve every source, keeping the order of `sources`; a prefix or directory expands in place
 * to its objects in lexicographic key order.
 * @param sources - parsed sources
 * @param env - storage backend and whether local paths are allowed
 * @returns the objects in job order
 * @throws TswrenError `TSWREN_NO_SUCH_BUCKET`, `TSWREN_NO_SUCH_KEY`, `TSWREN_BAD_INPUT`,
 *   `TSWREN_HTTP`
 */
export async function resolveSources(sources: readonly DataSource[], env: ResolveEnv): Promise<ResolvedObject[]> {
  const lists = await mapLimit(sources, RESOLVE_CONCURRENCY, (source) => resolveOne(source, env));
  return lists.flat();
}

async function resolveOne(source: DataSource, env: ResolveEnv): Promise<ResolvedObject[]> {
  switch (source.kind) {
    case "prefix":
      return resolvePrefix(source, env.storage);
    case "key":
      return [await resolveKey(source, env.storage)];
    case "url": {
      const info = await probeUrl(source.url);
      return [{ kind: "url", url: source.url, size: info.size, rangesSupported: info.rangesSupported }];
    }
    case "path":
      return resolvePath(source, env.localFiles);
  }
}

async function resolvePrefix(source: PrefixSource, storage: StorageBackend): Promise<ResolvedObject[]> {
  const { bucket, prefix } = source;
  if (!(await storage.bucketExists(bucket))) {
    throw new TswrenError(ErrorCodes.NO_SUCH_BUCKET, `bucket ${JSON.stringify(bucket)} does not exist in ${storage.name} storage (data source ${JSON.stringify(source.text)}): check the name or create it and upload the data`);
  }
  // Keys ending in "/" are folder markers made by consoles and tools, not data.
  const listed = (await storage.list(bucket, prefix)).filter((o) => !o.key.endsWith("/"));
  if (listed.length === 0) {
    const where = prefix === "" ? `bucket ${JSON.stringify(bucket)} is empty` : `no objects under prefix ${JSON.stringify(prefix)} in bucket ${JSON.stringify(bucket)}`;
    throw new TswrenError(ErrorCodes.BAD_INPUT, `${where} (data source ${JSON.stringify(source.text)}): upload the data first, or fix the prefix (it matches keys by plain string prefix)`);
  }
  return listed.map((o) => ({ kind: "storage", bucket, key: o.key, size: o.size, rangesSupported: true }));
}

async function resolveKey(source: KeySource, storage: StorageBackend): Promise<ResolvedObject> {
  try {
    const info = await storage.head(source.bucket, source.key);
    return { kind: "storage", bucket: source.bucket, key: source.key, size: info.size, rangesSupported: true };
  } catch (err) {
    if (!hasCode(err, ErrorCodes.NO_SUCH_KEY)) throw err;
    throw new TswrenError(
      ErrorCodes.NO_SUCH_KEY,
      `no object ${JSON.stringify(source.key)} in bucket ${JSON.stringify(source.bucket)} (data source ${JSON.stringify(source.text)}); to read every object under a prefix, end the source with "/"`,
      { cause: err },
    );
  }
}

async function resolvePath(source: PathSource, localFiles: boolean): Promise<ResolvedObject[]> {
  if (!localFiles) {
    throw new TswrenError(ErrorCodes.BAD_INPUT, `local path ${JSON.stringify(source.text)} can be used only with the localhost backend, whose workers share this machine's files: upload the data to object storage and use s3://BUCKET/KEY`);
  }
  const st = await statOrNull(source.path);
  if (st === null) {
    throw new TswrenError(ErrorCodes.NO_SUCH_KEY, `no file or directory at ${source.path} (data source ${JSON.stringify(source.text)})`);
  }
  if (st.isFile()) return [fileObject(source.path, st.size)];
  if (!st.isDirectory()) throw new TswrenError(ErrorCodes.BAD_INPUT, `${source.path} (data source ${JSON.stringify(source.text)}) is neither a file nor a directory`);
  const files: Array<{ rel: string; size: number }> = [];
  await walkDir(source.path, "", files, new Set([dirId(st)]));
  if (files.length === 0) {
    throw new TswrenError(ErrorCodes.BAD_INPUT, `no files under directory ${source.path} (data source ${JSON.stringify(source.text)})`);
  }
  files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  return files.map((f) => fileObject(path.join(source.path, ...f.rel.split("/")), f.size));
}

function fileObject(file: string, size: number): ResolvedObject {
  return { kind: "file", path: file, size, rangesSupported: true };
}

async function statOrNull(file: string): Promise<Stats | null> {
  try {
    return await fs.stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw err;
  }
}

function dirId(st: Stats): string {
  return `${st.dev}:${st.ino}`;
}

/**
 * Collect regular files under `root/rel` as "/"-separated relative paths, following symbolic
 * links but not into a directory already on the current path (a link loop).
 */
async function walkDir(root: string, rel: string, out: Array<{ rel: string; size: number }>, onPath: Set<string>): Promise<void> {
  const names = await fs.readdir(path.join(root, ...rel.split("/").filter(Boolean)));
  for (const name of names) {
    const childRel = rel === "" ? name : `${rel}/${name}`;
    const st = await statOrNull(path.join(root, ...childRel.split("/")));
    if (st === null) continue;
    if (st.isFile()) out.push({ rel: childRel, size: st.size });
    else if (st.isDirectory() && !onPath.has(dirId(st))) {
      onPath.add(dirId(st));
      await walkDir(root, childRel, out, onPath);
      onPath.delete(dirId(st));
    }
  }
}

/** `items.map(fn)` with at most `limit` calls in flight; results keep input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (next < items.length && !failed) {
      const i = next++;
      try {
        out[i] = await fn(items[i]);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
