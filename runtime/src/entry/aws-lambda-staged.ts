/**
 * A Lambda payload over the 256 KB event limit, staged by the client beside its job: the signed
 * event names it (`LambdaPayloadRef`) with its SHA-256 and the credentials kept out of storage.
 * The reference must point at the job's own `lambda-payload-<callId>.json` inside the runtime's
 * allowed storage; bytes that changed after the client wrote them are refused.
 */
import { createHash } from "node:crypto";
import { ErrorCodes, STAGED_PAYLOAD_NAME, TswrenError } from "tswren/internal";
import type { LambdaPayloadRef } from "tswren/internal";
import { storageProblem } from "../request-checks.js";
import { storageFor } from "../storage-cache.js";

const JOB_DIR = /^[A-Za-z0-9_][A-Za-z0-9_.-]*-[AMR]\d{3,9}$/;

/** Where the reference points, or null when it is the job's own staged payload. */
function refProblem(ref: LambdaPayloadRef, storageConfig: Record<string, unknown>): string | null {
  // The reference's config is empty: check the storage as it will be opened.
  const problem = storageProblem({ ...ref.storage, config: storageConfig });
  if (problem !== null) return problem;
  const prefix = ref.storage.prefix.replace(/\/+$/, "");
  const rest = prefix === "" ? ref.key : ref.key.startsWith(`${prefix}/`) ? ref.key.slice(prefix.length + 1) : null;
  const parts = rest?.split("/") ?? [];
  const ok = parts.length === 2 && JOB_DIR.test(parts[0] ?? "") && !(parts[0] ?? "").includes("..") && STAGED_PAYLOAD_NAME.test(parts[1] ?? "");
  return ok ? null : `the payload reference ${JSON.stringify(ref.key)} is not a staged job payload`;
}

/**
 * Read a staged payload: checked key, hash-checked bytes, credentials put back.
 * @param ref - the reference from a verified (signed) event
 * @returns the payload JSON (still to be checked with `checkedPayload`)
 * @throws Error when the reference is out of scope or the stored bytes changed
 */
export async function readStagedPayload(ref: LambdaPayloadRef): Promise<unknown> {
  const creds = ref.credentials as LambdaPayloadRef["credentials"] | undefined;
  const config = creds?.storageConfig ?? ref.storage.config;
  const problem = refProblem(ref, config);
  if (problem !== null) throw new TswrenError(ErrorCodes.STORAGE_NOT_ALLOWED, `tswren runtime: refused: ${problem}`);
  const storage = await storageFor({ ...ref.storage, config });
  const bytes = await storage.get(ref.storage.bucket, ref.key);
  if (createHash("sha256").update(bytes).digest("hex") !== ref.sha256) {
    throw new TswrenError(ErrorCodes.BUNDLE_MISMATCH, `TSWREN_BUNDLE_MISMATCH: the staged payload ${ref.storage.bucket}/${ref.key} does not match the hash in the signed event (changed in storage after the client wrote it); nothing ran`);
  }
  const staged = JSON.parse(bytes.toString("utf8")) as Record<string, unknown>;
  if (creds === undefined) return staged;
  const amqp = staged["amqp"] as Record<string, unknown> | undefined;
  return {
    ...staged,
    storage: { ...(staged["storage"] as Record<string, unknown>), config: creds.storageConfig },
    ...(amqp !== undefined && creds.amqpUrl !== undefined ? { amqp: { ...amqp, url: creds.amqpUrl } } : {}),
  };
}
