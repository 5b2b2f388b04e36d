/**
 * What a network runtime (OpenWhisk action, Knative server, Lambda, container) checks before it
 * reads storage or loads anything: the request's signature (constant time, 401 without side
 * effect), then that every storage path in the payload is the job's own key layout inside the
 * deployment's allowed storage.
 *
 * Allowed storage (set at deploy time, in the runtime's environment):
 * - `TSWREN_ALLOWED_STORAGE`: comma-separated `backend:bucket` entries (`*` for any bucket),
 *   e.g. `s3:my-data,minio:*`. Unset: any bucket of any backend but `localhost`.
 * - `TSWREN_LOCALHOST_STORAGE_ROOT`: the only folder (and its subfolders) a `localhost` storage
 *   payload may use. Unset: `localhost` storage is refused by network runtimes.
 */
import path from "node:path";
import { keys, runtimeSigningKeys, verifyPayload } from "tswren/internal";
import type { InvocationPayload, SigningKey, StorageRef } from "tswren/internal";

/** A verified request's parsed body, or the refusal to answer with. */
export type VerifiedRequest = { ok: true; json: unknown } | { ok: false; statusCode: 401 | 400; error: string };

let cachedKeys: { env: string; keys: SigningKey[] } | null = null;

/** The runtime's keys, re-read when its environment changed (OpenWhisk sets it at `/init`). */
function currentKeys(): SigningKey[] {
  const env = `${process.env["TSWREN_SIGNING_KEY"] ?? ""}\n${process.env["TSWREN_SIGNING_KEY_PREVIOUS"] ?? ""}`;
  if (cachedKeys?.env !== env) cachedKeys = { env, keys: runtimeSigningKeys() };
  return cachedKeys.keys;
}

/**
 * Verify a received request's signature, then parse its body. Nothing else is read before.
 * @param received - the parsed request body / action parameters (a `SignedRequest`)
 * @returns the parsed payload JSON, or a 401 (unsigned, forged, expired, unknown key, no key
 *   configured) / 400 (signed body is not JSON) refusal
 */
export function verifyRequest(received: unknown): VerifiedRequest {
  let accepted: SigningKey[];
  try {
    accepted = currentKeys();
  } catch (err) {
    return { ok: false, statusCode: 401, error: `tswren runtime: unauthorized: ${err instanceof Error ? err.message : String(err)}` };
  }
  const v = verifyPayload(received, accepted);
  if (!v.ok) return { ok: false, statusCode: 401, error: v.reason };
  try {
    return { ok: true, json: JSON.parse(v.body) as unknown };
  } catch {
    return { ok: false, statusCode: 400, error: "tswren runtime: the signed body is not JSON" };
  }
}

const HASH = /^[0-9a-f]{32}$/;
const SAFE_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const JOB_ID = /^[AMR]\d{3,9}$/;
const CALL_ID = /^\d{5,9}$/;

function prefixProblem(prefix: string): string | null {
  if (prefix === "") return null;
  if (prefix.startsWith("/") || prefix.split("/").some((s, i, all) => s === ".." || s === "." || (s === "" && i < all.length - 1))) {
    return `storage prefix ${JSON.stringify(prefix)} is not a plain key prefix`;
  }
  return null;
}

function allowedEntries(): Array<{ backend: string; bucket: string }> | null {
  const raw = process.env["TSWREN_ALLOWED_STORAGE"];
  if (raw === undefined || raw.trim() === "") return null;
  return raw.split(",").map((e) => e.trim()).filter((e) => e !== "").map((e) => {
    const i = e.indexOf(":");
    return i < 0 ? { backend: e, bucket: "*" } : { backend: e.slice(0, i), bucket: e.slice(i + 1) || "*" };
  });
}

function localhostProblem(ref: StorageRef): string | null {
  const allowedRoot = process.env["TSWREN_LOCALHOST_STORAGE_ROOT"];
  if (allowedRoot === undefined || allowedRoot === "") return "this runtime does not accept localhost storage (set TSWREN_LOCALHOST_STORAGE_ROOT at deploy time to allow one folder)";
  const root = ref.config["storage_root"];
  if (typeof root !== "string" || !path.isAbsolute(root)) return "localhost storage needs an absolute storage_root";
  const base = path.resolve(allowedRoot);
  const target = path.resolve(root);
  return target === base || target.startsWith(base + path.sep) ? null : `localhost storage_root ${root} is outside the runtime's allowed folder`;
}

/**
 * Check the payload's storage against the deployment's allowed storage.
 * @returns null when allowed, else the problem (names the option that allows it)
 */
export function storageProblem(ref: StorageRef): string | null {
  const prefix = prefixProblem(ref.prefix);
  if (prefix !== null) return prefix;
  const entries = allowedEntries();
  if (entries !== null && !entries.some((e) => e.backend === ref.backend && (e.bucket === "*" || e.bucket === ref.bucket))) {
    return `storage ${ref.backend}:${ref.bucket} is not in this runtime's TSWREN_ALLOWED_STORAGE`;
  }
  return ref.backend === "localhost" ? localhostProblem(ref) : null;
}

function idsProblem(p: InvocationPayload): string | null {
  if (!SAFE_ID.test(p.executorId) || p.executorId.includes("..")) return `executorId ${JSON.stringify(p.executorId)} is not an executor id`;
  if (!JOB_ID.test(p.jobId)) return `jobId ${JSON.stringify(p.jobId)} is not a job id`;
  const bad = p.calls.find((c) => !CALL_ID.test(c.callId) || (c.input.kind === "reduce" && (!JOB_ID.test(c.input.mapJobId) || !c.input.mapCallIds.every((id) => CALL_ID.test(id)))));
  return bad === undefined ? null : `call ${JSON.stringify(bad.callId)} has ids that are not call / job ids`;
}

function keysProblem(p: InvocationPayload): string | null {
  const prefix = p.storage.prefix;
  if (typeof p.funcHash !== "string" || !HASH.test(p.funcHash)) return "the payload has no function bundle hash (funcHash); use a client of this tswren version";
  if (!Array.isArray(p.moduleHashes) || !p.moduleHashes.every((h) => typeof h === "string" && HASH.test(h))) return "the payload's moduleHashes are not content hashes";
  if (p.funcKey !== keys.funcKey(prefix, p.executorId, p.funcHash)) return `funcKey ${JSON.stringify(p.funcKey)} is not the job's function bundle key`;
  if (p.dataKey !== null && p.dataKey !== keys.dataKey(prefix, p.executorId, p.jobId)) return `dataKey ${JSON.stringify(p.dataKey)} is not the job's data key`;
  return null;
}

/**
 * Check every storage path a payload names: ids, the key layout under the job's prefix, and the
 * storage itself ({@link storageProblem}).
 * @param payload - a decoded, signature-checked payload
 * @param network - true in network runtimes (storage allow-list applies); false in local workers
 * @returns null when everything is in scope, else the problem
 */
export function payloadScopeProblem(payload: InvocationPayload, network: boolean): string | null {
  return idsProblem(payload) ?? keysProblem(payload) ?? (network ? storageProblem(payload.storage) : prefixProblem(payload.storage.prefix));
}
