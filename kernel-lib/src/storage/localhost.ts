/**
 * Localhost storage: a directory per bucket under `storage_root`, a file per key (key segments
 * become folders). Writes go to a temporary file in `<root>/.tmp` and are renamed into place, so
 * they are atomic and never visible half-written.
 */
import { createReadStream, createWriteStream, mkdirSync, renameSync, writeFileSync } from "node:fs";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { deleteLocalPrefix } from "./localhost-delete.js";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ErrorCodes, TswrenError } from "../errors.js";
import type { ByteRange, ObjectInfo, StorageBackend, StorageCapabilities } from "./backend.js";
import { showOnly } from "../security/opaque.js";

/** Config section `localhost_storage`. */
export interface LocalhostStorageConfig {
  /** Folder that holds one sub-folder per bucket. */
  storage_root: string;
}

const TMP_DIR = ".tmp";
/** Folders are private to their owner and files readable by the owner only, whatever the umask. */
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
/**
 * Bodies up to this size are written with synchronous calls: for small objects (statuses,
 * inline results) that is several times cheaper than three thread-pool round trips, and blocks
 * the event loop for microseconds only.
 */
const SYNC_WRITE_BYTES = 64 * 1024;
const tmpPrefix = `${process.pid}-${randomBytes(4).toString("hex")}-`;
let tmpCounter = 0;

/** Create `dir`; a single mkdir when its parent is known to exist (cheaper than a recursive one). */
function mkdirFast(dir: string, parentExists: boolean): void {
  if (parentExists) {
    try {
      mkdirSync(dir, { mode: DIR_MODE });
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST") return;
      if (code !== "ENOENT") throw err;
    }
  }
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
}

/** Reject keys that would escape the bucket folder or collide with folder structure. */
function checkKey(key: string): void {
  const bad =
    key === "" || key.startsWith("/") || key.endsWith("/") || key.includes("\0") ||
    key.split("/").some((s) => s === "" || s === "." || s === "..");
  if (bad) {
    throw new TswrenError(
      ErrorCodes.BAD_KEY,
      `storage key ${JSON.stringify(key)} is not valid for localhost storage: use non-empty segments separated by single "/", without "." or ".." segments or a trailing "/"`,
    );
  }
}

/** Reject list prefixes that would walk outside the bucket folder (checked like keys). */
function checkPrefix(prefix: string): void {
  const folders = prefix.split("/").slice(0, -1);
  const bad = prefix.startsWith("/") || prefix.includes("\0") || folders.some((s) => s === "" || s === "." || s === "..");
  if (bad) {
    throw new TswrenError(
      ErrorCodes.BAD_KEY,
      `list prefix ${JSON.stringify(prefix)} is not valid for localhost storage: use non-empty segments separated by single "/", without "." or ".." segments or a leading "/"`,
    );
  }
}

function checkBucket(bucket: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(bucket) || bucket === TMP_DIR) {
    throw new TswrenError(ErrorCodes.BAD_KEY, `bucket name ${JSON.stringify(bucket)} is not valid: use letters, digits, ".", "_" and "-"`);
  }
}

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR";
}

/** A directory on this machine used as an object store. */
export class LocalhostStorage implements StorageBackend {
  readonly name = "localhost";
  readonly capabilities: StorageCapabilities = {
    local: true,
    prefixDelete: {
      deletePrefix: async (bucket, prefix) => {
        checkBucket(bucket);
        return deleteLocalPrefix(path.join(this.root, bucket), path.join(this.root, TMP_DIR), prefix, (dir) => { this.forgetDirs(dir); });
      },
    },
  };
  readonly root: string;
  private readonly createdDirs = new Set<string>();

  /** @param config - the `localhost_storage` section */
  constructor(config: LocalhostStorageConfig) {
    showOnly(this, "LocalhostStorage", () => ({ name: this.name }));
    this.root = path.resolve(config.storage_root);
  }

  private filePath(bucket: string, key: string): string {
    checkBucket(bucket);
    checkKey(key);
    return path.join(this.root, bucket, ...key.split("/"));
  }

  private async mkdirOnce(dir: string): Promise<void> {
    if (this.createdDirs.has(dir)) return;
    await fs.mkdir(dir, { recursive: true, mode: DIR_MODE });
    this.rememberDir(dir);
  }

  private async requireBucket(bucket: string): Promise<void> {
    if (!(await this.bucketExists(bucket))) {
      throw new TswrenError(ErrorCodes.NO_SUCH_BUCKET, `bucket ${JSON.stringify(bucket)} does not exist in localhost storage at ${this.root}`);
    }
  }

  /**
   * A write refused by the file system (a read-only folder, one this user may not write, a full
   * disk) as a coded error naming the folder and the fix, instead of a raw `EPERM`.
   */
  private writeError(err: unknown): unknown {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EACCES" || code === "EPERM" || code === "EROFS") {
      return new TswrenError(
        ErrorCodes.STORAGE,
        `localhost storage cannot write to its folder ${this.root} (${code}: the folder is read-only or this user may not write it); ` +
          "set localhost_storage.storage_root to a writable folder (the default is ~/.tswren/storage) or make this one writable",
        { cause: err },
      );
    }
    if (code === "ENOSPC" || code === "EDQUOT") {
      return new TswrenError(ErrorCodes.STORAGE, `localhost storage cannot write to its folder ${this.root} (${code}: the disk or quota is full); free space there or set localhost_storage.storage_root to another folder`, { cause: err });
    }
    return err;
  }

  /** @throws TswrenError `TSWREN_STORAGE` naming the folder when it cannot be written */
  async put(bucket: string, key: string, body: Uint8Array | string): Promise<void> {
    try {
      await this.putUnchecked(bucket, key, body);
    } catch (err) {
      throw this.writeError(err);
    }
  }

  private async putUnchecked(bucket: string, key: string, body: Uint8Array | string): Promise<void> {
    const file = this.filePath(bucket, key);
    const tmpDir = path.join(this.root, TMP_DIR);
    const tmp = path.join(tmpDir, tmpPrefix + String(tmpCounter++));
    const size = typeof body === "string" ? body.length * 3 : body.byteLength;
    if (size <= SYNC_WRITE_BYTES) {
      this.putSync(tmpDir, tmp, file, body);
      return;
    }
    await this.mkdirOnce(tmpDir);
    await this.mkdirOnce(path.dirname(file));
    await fs.writeFile(tmp, body, { mode: FILE_MODE });
    try {
      await fs.rename(tmp, file);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await fs.mkdir(path.dirname(file), { recursive: true, mode: DIR_MODE });
      await fs.rename(tmp, file);
    }
  }

  /** @throws TswrenError `TSWREN_STORAGE` naming the folder when it cannot be written */
  async putStream(bucket: string, key: string, body: Readable): Promise<void> {
    const file = this.filePath(bucket, key);
    const tmpDir = path.join(this.root, TMP_DIR);
    const tmp = path.join(tmpDir, tmpPrefix + String(tmpCounter++));
    try {
      await this.mkdirOnce(tmpDir);
      await pipeline(body, createWriteStream(tmp, { mode: FILE_MODE }));
      await fs.mkdir(path.dirname(file), { recursive: true, mode: DIR_MODE });
      await fs.rename(tmp, file);
    } catch (err) {
      await fs.rm(tmp, { force: true }).catch(() => undefined);
      throw this.writeError(err);
    }
  }

  private putSync(tmpDir: string, tmp: string, file: string, body: Uint8Array | string): void {
    for (const dir of [tmpDir, path.dirname(file)]) {
      if (this.createdDirs.has(dir)) continue;
      mkdirFast(dir, this.createdDirs.has(path.dirname(dir)));
      this.rememberDir(dir);
    }
    writeFileSync(tmp, body, { mode: FILE_MODE });
    try {
      renameSync(tmp, file);
    } catch (err) {
      if (!isNotFound(err)) throw err;
      mkdirSync(path.dirname(file), { recursive: true, mode: DIR_MODE });
      renameSync(tmp, file);
    }
  }

  private rememberDir(dir: string): void {
    if (this.createdDirs.size > 10_000) this.createdDirs.clear();
    this.createdDirs.add(dir);
  }

  private noSuchKey(bucket: string, key: string, cause: unknown): TswrenError {
    return new TswrenError(ErrorCodes.NO_SUCH_KEY, `no object ${JSON.stringify(key)} in bucket ${JSON.stringify(bucket)} (localhost storage at ${this.root})`, { cause });
  }

  async get(bucket: string, key: string, range?: ByteRange): Promise<Buffer> {
    const file = this.filePath(bucket, key);
    try {
      if (range === undefined) return await fs.readFile(file);
      const handle = await fs.open(file, "r");
      try {
        const size = (await handle.stat()).size;
        const end = Math.min(range.end ?? size - 1, size - 1);
        const length = Math.max(0, end - range.start + 1);
        const buf = Buffer.alloc(length);
        const { bytesRead } = await handle.read(buf, 0, length, range.start);
        return buf.subarray(0, bytesRead);
      } finally {
        await handle.close();
      }
    } catch (err) {
      if (isNotFound(err)) {
        await this.requireBucket(bucket);
        throw this.noSuchKey(bucket, key, err);
      }
      throw err;
    }
  }

  async getStream(bucket: string, key: string, range?: ByteRange): Promise<Readable> {
    await this.head(bucket, key);
    const file = this.filePath(bucket, key);
    return createReadStream(file, range === undefined ? {} : { start: range.start, end: range.end });
  }

  async head(bucket: string, key: string): Promise<ObjectInfo> {
    const file = this.filePath(bucket, key);
    let cause: unknown = "not a file";
    const st = await fs.stat(file).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
      cause = err;
      return undefined;
    });
    if (st?.isFile() === true) return { key, size: st.size, lastModifiedMs: st.mtimeMs };
    await this.requireBucket(bucket);
    throw this.noSuchKey(bucket, key, cause);
  }

  async list(bucket: string, prefix: string): Promise<ObjectInfo[]> {
    checkBucket(bucket);
    checkPrefix(prefix);
    await this.requireBucket(bucket);
    const base = path.join(this.root, bucket);
    const slash = prefix.lastIndexOf("/");
    const dirPart = slash >= 0 ? prefix.slice(0, slash) : "";
    const out: ObjectInfo[] = [];
    await this.walk(base, dirPart, prefix, out);
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out;
  }

  private async walk(base: string, relDir: string, prefix: string, out: ObjectInfo[]): Promise<void> {
    let entries;
    try {
      entries = await fs.readdir(path.join(base, ...relDir.split("/").filter(Boolean)), { withFileTypes: true });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    for (const entry of entries) {
      const key = relDir === "" ? entry.name : `${relDir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (prefix.startsWith(`${key}/`) || `${key}/`.startsWith(prefix) || key.startsWith(prefix)) {
          await this.walk(base, key, prefix, out);
        }
      } else if (entry.isFile() && key.startsWith(prefix)) {
        const st = await fs.stat(path.join(base, ...key.split("/")));
        out.push({ key, size: st.size, lastModifiedMs: st.mtimeMs });
      }
    }
  }

  async delete(bucket: string, key: string): Promise<void> {
    const file = this.filePath(bucket, key);
    await fs.rm(file, { force: true });
    await this.pruneEmptyDirs(path.join(this.root, bucket), path.dirname(file));
  }

  async deleteMany(bucket: string, keys: readonly string[]): Promise<void> {
    const dirs = new Set<string>();
    const base = path.join(this.root, bucket);
    for (let i = 0; i < keys.length; i += 64) {
      await Promise.all(
        keys.slice(i, i + 64).map(async (key) => {
          const file = this.filePath(bucket, key);
          dirs.add(path.dirname(file));
          await fs.rm(file, { force: true });
        }),
      );
    }
    const deepestFirst = [...dirs].sort((a, b) => b.length - a.length);
    for (const dir of deepestFirst) await this.pruneEmptyDirs(base, dir);
  }

  /** Remove now-empty folders from `dir` up to (not including) the bucket folder. */
  private async pruneEmptyDirs(bucketDir: string, dir: string): Promise<void> {
    let current = dir;
    while (current.startsWith(bucketDir + path.sep)) {
      try {
        await fs.rmdir(current);
      } catch {
        return;
      }
      this.createdDirs.delete(current);
      current = path.dirname(current);
    }
  }

  async bucketExists(bucket: string): Promise<boolean> {
    checkBucket(bucket);
    try {
      return (await fs.stat(path.join(this.root, bucket))).isDirectory();
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  /** @throws TswrenError `TSWREN_STORAGE` naming the folder when it cannot be written */
  async ensureBucket(bucket: string): Promise<void> {
    checkBucket(bucket);
    try {
      await this.mkdirOnce(path.join(this.root, bucket));
    } catch (err) {
      throw this.writeError(err);
    }
  }

  /** Forget cached folders at or under `dir` (removed). */
  private forgetDirs(dir: string): void {
    for (const d of this.createdDirs) if (d === dir || d.startsWith(dir + path.sep)) this.createdDirs.delete(d);
  }

  close(): Promise<void> {
    this.createdDirs.clear();
    return Promise.resolve();
  }
}
