/**
 * Loads function bundles (and the npm modules they need) from storage, once per content hash
 * per worker process, and keeps the loaded functions for the next calls. Every bundle's bytes are
 * checked against the hash the (signed) payload carries before they are evaluated; a module must
 * be one the payload lists and match its hash. A mismatch is `TSWREN_BUNDLE_MISMATCH` naming the
 * object, and nothing of it runs.
 */
import { createHash } from "node:crypto";
import { ErrorCodes, TswrenError, bundleModuleHashes, keys, loadFunctionBundle } from "tswren/internal";
import type { InvocationPayload, StorageBackend } from "tswren/internal";

type UserFunction = (...args: unknown[]) => unknown;

const MAX_FUNCTIONS = 64;
const functions = new Map<string, UserFunction>();
const moduleSources = new Map<string, string>();

/** First 32 hex characters of SHA-256: the content hash tswren names bundles and modules by. */
function contentHash(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex").slice(0, 32);
}

function mismatch(what: string, bucket: string, key: string, expected: string, actual: string): TswrenError {
  return new TswrenError(
    ErrorCodes.BUNDLE_MISMATCH,
    `the ${what} ${bucket}/${key} does not match the hash ${expected} in the signed payload (its bytes hash to ${actual}): ` +
      "it was changed in storage after the client uploaded it, so it was not run; check who can write the bucket, then run the job again",
  );
}

async function fetchModules(storage: StorageBackend, payload: InvocationPayload, hashes: string[]): Promise<void> {
  const ref = payload.storage;
  const listed = new Set(payload.moduleHashes);
  await Promise.all(
    hashes.filter((h) => !moduleSources.has(h)).map(async (hash) => {
      const key = keys.moduleKey(ref.prefix, payload.executorId, hash);
      if (!listed.has(hash)) throw mismatch("module bundle", ref.bucket, key, "(not listed)", hash);
      const bytes = await storage.get(ref.bucket, key);
      const actual = contentHash(bytes);
      if (actual !== hash) throw mismatch("module bundle", ref.bucket, key, hash, actual);
      moduleSources.set(hash, bytes.toString("utf8"));
    }),
  );
}

/**
 * The user function of the payload, loaded from storage on first use and checked against
 * `payload.funcHash` / `payload.moduleHashes`.
 * @throws TswrenError `TSWREN_BUNDLE_MISMATCH` when stored bytes differ from the signed hashes
 */
export async function loadFunction(storage: StorageBackend, payload: InvocationPayload): Promise<UserFunction> {
  const { funcKey, funcHash } = payload;
  const cached = functions.get(funcHash);
  if (cached) return cached;
  const bundle = await storage.get(payload.storage.bucket, funcKey);
  const actual = contentHash(bundle);
  if (actual !== funcHash) throw mismatch("function bundle", payload.storage.bucket, funcKey, funcHash, actual);
  await fetchModules(storage, payload, bundleModuleHashes(bundle));
  const fn = loadFunctionBundle(bundle, (hash) => {
    const source = moduleSources.get(hash);
    if (source === undefined) throw new TswrenError(ErrorCodes.BAD_PAYLOAD, `module ${hash} was not uploaded with the function of executor ${payload.executorId}; rerun the job (its data may have been cleaned)`);
    return source;
  });
  if (functions.size >= MAX_FUNCTIONS) functions.delete(functions.keys().next().value as string);
  functions.set(funcHash, fn);
  return fn;
}
