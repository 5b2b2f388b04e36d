/** Test helpers: executors on localhost compute with a private temporary storage root. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll } from "vitest";
import { functionExecutor, type ExecutorOptions, type FunctionExecutor } from "../../kernel-lib/src/index.js";

/** A temporary directory removed after the test file. */
export function tempDir(name: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `tswren-${name}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An executor on localhost compute and a temporary localhost storage root. */
export function testExecutor(root: string, options: ExecutorOptions = {}): FunctionExecutor {
  const config = { ...(options.config ?? {}), localhost_storage: { storage_root: root } };
  return functionExecutor({ dataCleaner: false, ...options, config });
}
