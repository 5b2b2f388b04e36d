/**
 * Deleting everything under a key prefix of localhost storage in one sweep: the entries of the
 * prefix's folder that match go in one recursive removal each, instead of one unlink per object
 * and one `rmdir` per emptied folder (a job's data is a folder per call).
 *
 * Removing thousands of small folders is bound by the disk (seconds for a few thousand calls on
 * a VM disk), so above {@link INLINE_DELETE_FILES} objects the folders are first renamed into a
 * trash folder under the storage root's `.tmp` (instant, same file system: they leave the bucket
 * at once) and a detached process removes the trash, so `close()` does not wait for the disk
 * and the removal finishes even when the program exits right after.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs/promises";
import * as path from "node:path";
import { ErrorCodes, TswrenError } from "../errors.js";

/** Sweeps of at most this many objects are removed inline; larger ones in the background. */
export const INLINE_DELETE_FILES = 256;

const REMOVER = "require('node:fs').rmSync(process.argv[1], { recursive: true, force: true })";

/** Move `dirs` into a new trash folder in `tmpDir` and remove it from a detached process. */
async function trashInBackground(tmpDir: string, dirs: readonly string[]): Promise<void> {
  const trash = path.join(tmpDir, `trash-${process.pid}-${randomBytes(6).toString("hex")}`);
  await fs.mkdir(trash, { recursive: true });
  await Promise.all(
    dirs.map(async (dir, i) => {
      try {
        await fs.rename(dir, path.join(trash, String(i)));
      } catch {
        await fs.rm(dir, { recursive: true, force: true }); // another file system: remove here
      }
    }),
  );
  const child = spawn(process.execPath, ["-e", REMOVER, trash], { detached: true, stdio: "ignore" });
  child.on("error", () => { void fs.rm(trash, { recursive: true, force: true }); });
  child.unref();
}

async function countFiles(dir: string): Promise<number> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    return 0;
  }
  return entries.filter((e) => e.isFile()).length;
}

async function removeAll(paths: readonly string[], objects: number, tmpDir: string): Promise<void> {
  if (objects <= INLINE_DELETE_FILES) {
    await Promise.all(paths.map((p) => fs.rm(p, { recursive: true, force: true })));
    return;
  }
  const existing = (await Promise.all(paths.map(async (p) => ((await fs.stat(p).then(() => true, () => false)) ? p : null)))).filter((p): p is string => p !== null);
  await trashInBackground(tmpDir, existing);
}

function checkPrefix(prefix: string): { dirPart: string; namePart: string } {
  const slash = prefix.lastIndexOf("/");
  const dirPart = slash >= 0 ? prefix.slice(0, slash) : "";
  const namePart = prefix.slice(slash + 1);
  const segments = dirPart === "" ? [] : dirPart.split("/");
  if (prefix === "" || prefix.startsWith("/") || prefix.includes("\0") || segments.some((s) => s === "" || s === "." || s === "..") || namePart === "." || namePart === "..") {
    throw new TswrenError(ErrorCodes.BAD_KEY, `storage prefix ${JSON.stringify(prefix)} cannot be deleted from localhost storage: give a non-empty prefix of non-empty segments without "." or ".." (a trailing "/" deletes that folder)`);
  }
  return { dirPart, namePart };
}

/**
 * Delete every object whose key starts with `prefix` (a plain string prefix, as in `list`).
 * @param bucketDir - the bucket's folder
 * @param tmpDir - the storage root's temporary folder (same file system), for the trash
 * @param prefix - non-empty key prefix, e.g. `tswren.jobs/ab12cd-0-`, or `tswren.jobs/ab12cd-0-M000/` (that folder)
 * @param forget - told about each removed folder (so cached "folder exists" entries are dropped)
 * @returns how many objects were deleted
 * @throws TswrenError `TSWREN_BAD_KEY` for an empty prefix or one with `.`/`..` segments
 */
export async function deleteLocalPrefix(bucketDir: string, tmpDir: string, prefix: string, forget: (dir: string) => void): Promise<number> {
  const { dirPart, namePart } = checkPrefix(prefix);
  const dir = path.join(bucketDir, ...(dirPart === "" ? [] : dirPart.split("/")));
  if (namePart === "") {
    // `a/b/`: the folder a/b and all it holds
    const deleted = await countFiles(dir);
    await removeAll([dir], deleted, tmpDir);
    forget(dir);
    return deleted;
  }
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return 0;
    throw err;
  }
  const matched = entries.filter((e) => e.name.startsWith(namePart) && (e.isFile() || e.isDirectory())).map((e) => ({ full: path.join(dir, e.name), file: e.isFile() }));
  const counts = await Promise.all(matched.map(async (m) => (m.file ? 1 : countFiles(m.full))));
  const total = counts.reduce((a, b) => a + b, 0);
  await removeAll(matched.map((m) => m.full), total, tmpDir);
  for (const m of matched) forget(m.full);
  return total;
}
