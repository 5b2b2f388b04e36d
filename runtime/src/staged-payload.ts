/**
 * Staged remote-invoke payloads (large jobs): the client stores the job's payload without
 * credentials beside the job and sends a small request naming it, with its SHA-256 and the
 * credentials. Shared by every runtime that runs the remote invoker (OpenWhisk action, Lambda).
 */
import { createHash } from "node:crypto";
import { ErrorCodes, TswrenError } from "tswren/internal";
import type { RemoteInvokeRequest } from "tswren/internal";
import { storageProblem } from "./request-checks.js";
import { storageFor } from "./storage-cache.js";

/** Where a staged payload may be: the job's `remote-invoke.json` under the request's storage prefix. */
function stagedRefProblem(ref: NonNullable<RemoteInvokeRequest["payloadRef"]>, storageConfig: Record<string, unknown>): string | null {
  // The staged reference's config is empty: check the storage as it will be opened.
  const problem = storageProblem({ ...ref.storage, config: storageConfig });
  if (problem !== null) return problem;
  const prefix = ref.storage.prefix.replace(/\/+$/, "");
  const rest = prefix === "" ? ref.key : ref.key.startsWith(`${prefix}/`) ? ref.key.slice(prefix.length + 1) : null;
  if (rest === null || !/^[A-Za-z0-9_][A-Za-z0-9_.-]*-[AMR]\d{3,9}\/remote-invoke\.json$/.test(rest) || rest.includes("..")) return `payloadRef.key ${JSON.stringify(ref.key)} is not a staged job payload`;
  if (typeof ref.sha256 !== "string") return "payloadRef has no sha256";
  return null;
}

/** Put the credentials the client kept out of storage back into a staged payload. */
function withCredentials(staged: Record<string, unknown>, request: RemoteInvokeRequest): Record<string, unknown> {
  const creds = request.credentials;
  if (creds === undefined) return staged;
  const storage = { ...(staged["storage"] as Record<string, unknown>), config: creds.storageConfig };
  const amqp = staged["amqp"] as Record<string, unknown> | undefined;
  return { ...staged, storage, ...(amqp !== undefined && creds.amqpUrl !== undefined ? { amqp: { ...amqp, url: creds.amqpUrl } } : {}) };
}

/**
 * The job's payload of a remote-invoke request: inline in the request, or read from where the
 * client staged it, checked against the SHA-256 in the (signed) request, with the credentials the
 * client kept out of storage put back and the request's submit time.
 * @param request - a remote-invoke request (already verified by its entry point)
 * @returns the payload JSON (still to be checked with `readPayload` / `checkedPayload`)
 * @throws Error when the reference is outside the job's keys or the staged bytes changed
 */
export async function remoteInvokePayload(request: RemoteInvokeRequest): Promise<unknown> {
  if (request.payload !== undefined || request.payloadRef === undefined) return request.payload;
  const { storage: ref, key, sha256 } = request.payloadRef;
  const config = request.credentials?.storageConfig ?? ref.config;
  const problem = stagedRefProblem(request.payloadRef, config);
  if (problem !== null) throw new TswrenError(ErrorCodes.STORAGE_NOT_ALLOWED, `refused: ${problem}`);
  const storage = await storageFor({ ...ref, config });
  const bytes = await storage.get(ref.bucket, key);
  const actual = createHash("sha256").update(bytes).digest("hex");
  if (actual !== sha256) throw new TswrenError(ErrorCodes.BUNDLE_MISMATCH, `TSWREN_BUNDLE_MISMATCH: the staged job payload ${ref.bucket}/${key} does not match the hash in the signed request (changed in storage after the client wrote it); nothing was invoked`);
  const staged = withCredentials(JSON.parse(bytes.toString("utf8")) as Record<string, unknown>, request);
  // Staged while the job was created: the submit time comes with the request.
  return request.hostSubmitMs !== undefined ? { ...staged, hostSubmitMs: request.hostSubmitMs } : staged;
}
