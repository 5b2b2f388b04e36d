/**
 * Test helpers that build invocation payloads the way the client does (executor-core's
 * `submitJob`): capture a function, upload its bundle (and module bundles) and the job's input
 * blob to storage, and return the payload a compute backend would send, plus readers for the
 * statuses, start keys and results the runtime writes. Used by the runtime server tests and the
 * serverless backend tests, on localhost storage or MinIO.
 */
import { captureFunction } from "../../kernel-lib/src/job/capture/index.js";
import { prepareInputs } from "../../kernel-lib/src/job/prepare.js";
import { newExecutorId } from "../../kernel-lib/src/ids.js";
import { PROTOCOL_VERSION, decodeStatus, encodePayload } from "../../kernel-lib/src/protocol.js";
import type { CallStatus, CallStatusJson, InvocationPayload, InvocationPayloadJson, StorageRef } from "../../kernel-lib/src/protocol.js";
import { deserializeValue } from "../../kernel-lib/src/serialize.js";
import type { StorageBackend } from "../../kernel-lib/src/storage/backend.js";
import * as keys from "../../kernel-lib/src/storage/keys.js";
import { createStorageBackend } from "../../kernel-lib/src/storage/registry.js";
import { TSWREN_VERSION } from "../../kernel-lib/src/version.js";
import type { SignedRequest } from "../../kernel-lib/src/security/signing.js";
import { signed } from "./signing.js";

/**
 * A storage reference to a localhost storage root (the config section `localhost_storage`).
 * @param storageRoot - the folder holding the buckets
 * @param bucket - bucket (a folder under the root)
 * @param prefix - key prefix of the job data
 */
export function localStorageRef(storageRoot: string, bucket = "tswren-test", prefix = "tswren.jobs"): StorageRef {
  return { backend: "localhost", config: { storage_root: storageRoot }, bucket, prefix };
}

/** Options of {@link buildJob}; defaults are those of a plain `map`. */
export interface JobOptions {
  /** Where the job's data lives (the runtime reads it from the payload). */
  storage: StorageRef;
  executorId?: string;
  /** Default `M000`. */
  jobId?: string;
  /** Per-call time limit, default 60 s. */
  timeoutMs?: number;
  memoryMb?: number;
  extraEnv?: Record<string, string>;
  /** Ask the runtime to write each call's `start` key. */
  startMarkers?: boolean;
  /** Explicit captures for names the function uses that tswren cannot see. */
  capture?: Record<string, unknown>;
  /** Override any payload field after it is built (e.g. a wrong `tswrenVersion`). */
  overrides?: Partial<InvocationPayload>;
}

/** A job uploaded to storage, its payload, and readers for what the runtime writes. */
export interface TestJob {
  payload: InvocationPayload;
  /** The payload in its JSON form (what OpenWhisk / Knative receive, inside a signed request). */
  json: InvocationPayloadJson;
  /** {@link json} signed with the suites' test key (what a runtime accepts). */
  signed: SignedRequest;
  storage: StorageBackend;
  ref: StorageRef;
  /** The `status.json` of a call (by call id, e.g. `00001`). */
  status(callId: string): Promise<CallStatus>;
  /** True when the call's `start` key exists. */
  started(callId: string): Promise<boolean>;
  /** The value of a successful status (inline, or read from its output key). */
  result(status: CallStatus | CallStatusJson): Promise<unknown>;
  /** Release the storage client. */
  close(): Promise<void>;
}

/**
 * Capture `fn`, upload its bundle and the inputs of `items`, and build the job's payload.
 * @param fn - the function to map
 * @param items - one call per item
 * @param options - storage and payload fields
 * @returns the payload and readers of the job's statuses and results
 * @example
 * ```ts
 * const job = await buildJob((x: number) => x + 7, [1, 2, 3], { storage: localStorageRef(dir) });
 * // send job.json to a runtime, then:
 * await job.result(await job.status("00000")); // 8
 * ```
 */
export async function buildJob(fn: Function, items: readonly unknown[], options: JobOptions): Promise<TestJob> {
  const ref = options.storage;
  const storage = await createStorageBackend(ref.backend, ref.config);
  await storage.ensureBucket(ref.bucket);
  const executorId = options.executorId ?? newExecutorId();
  const jobId = options.jobId ?? "M000";
  const captured = await captureFunction(fn, { capture: options.capture ?? {}, what: "map function" });
  await Promise.all(captured.modules.map((m) => storage.put(ref.bucket, keys.moduleKey(ref.prefix, executorId, m.hash), m.source)));
  const funcKey = keys.funcKey(ref.prefix, executorId, captured.hash);
  await storage.put(ref.bucket, funcKey, captured.bundleBytes);
  const { calls, blob } = prepareInputs(items);
  const dataKey = blob === null ? null : keys.dataKey(ref.prefix, executorId, jobId);
  if (blob !== null && dataKey !== null) await storage.put(ref.bucket, dataKey, blob);
  const now = Date.now();
  const payload: InvocationPayload = {
    protocolVersion: PROTOCOL_VERSION,
    tswrenVersion: TSWREN_VERSION,
    executorId,
    jobId,
    funcKey,
    funcHash: captured.hash,
    moduleHashes: captured.modules.map((m) => m.hash),
    dataKey,
    inputKind: "value",
    calls,
    timeoutMs: options.timeoutMs ?? 60_000,
    memoryMb: options.memoryMb ?? 256,
    extraEnv: options.extraEnv ?? {},
    storage: ref,
    hostJobCreateMs: now,
    hostSubmitMs: now,
    ...(options.startMarkers === true ? { startMarkers: true } : {}),
    ...options.overrides,
  };
  const json = encodePayload(payload);
  return {
    payload,
    json,
    signed: signed(json),
    storage,
    ref,
    async status(callId) {
      const bytes = await storage.get(ref.bucket, keys.statusKey(ref.prefix, executorId, jobId, callId));
      return decodeStatus(bytes.toString("utf8"));
    },
    async started(callId) {
      const listed = await storage.list(ref.bucket, keys.startKey(ref.prefix, executorId, jobId, callId));
      return listed.length > 0;
    },
    async result(status) {
      const decoded = "bytes" in (status.result ?? {}) ? (status as CallStatus) : decodeStatus(JSON.stringify(status));
      const found = decoded.result;
      if (!decoded.ok || found === undefined) throw new Error(`call ${decoded.callId} has no result: ${decoded.error?.message ?? "?"}`);
      const bytes = found.kind === "inline" ? found.bytes : await storage.get(ref.bucket, found.key);
      return deserializeValue(bytes);
    },
    close: () => storage.close(),
  };
}
