/**
 * Loads function bundles (and the npm modules they need) from storage, once per content hash
 * per worker process, and keeps the loaded functions for the next calls.
 */
import { ErrorCodes, TswrenError, bundleModuleHashes, keys, loadFunctionBundle } from "tswren/internal";
import type { StorageBackend, StorageRef } from "tswren/internal";

type UserFunction = (...args: unknown[]) => unknown;

const MAX_FUNCTIONS = 64;
const functions = new Map<string, UserFunction>();
const moduleSources = new Map<string, string>();

/** The user function of `funcKey`, loaded from storage on first use. */
export async function loadFunction(
  storage: StorageBackend,
  ref: StorageRef,
  executorId: string,
  funcKey: string,
): Promise<UserFunction> {
  const cached = functions.get(funcKey);
  if (cached) return cached;
  const bundle = await storage.get(ref.bucket, funcKey);
  const missing = bundleModuleHashes(bundle).filter((h) => !moduleSources.has(h));
  await Promise.all(
    missing.map(async (hash) => {
      const source = await storage.get(ref.bucket, keys.moduleKey(ref.prefix, executorId, hash));
      moduleSources.set(hash, source.toString("utf8"));
    }),
  );
  const fn = loadFunctionBundle(bundle, (hash) => {
    const source = moduleSources.get(hash);
    if (source === undefined) throw new TswrenError(ErrorCodes.BAD_PAYLOAD, `module ${hash} was not uploaded with the function of executor ${executorId}; rerun the job (its data may have been cleaned)`);
    return source;
  });
  if (functions.size >= MAX_FUNCTIONS) functions.delete(functions.keys().next().value as string);
  functions.set(funcKey, fn);
  return fn;
}
