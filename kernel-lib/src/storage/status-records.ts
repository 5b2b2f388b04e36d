/**
 * A job's call statuses as stored: one `status.json` per call (serverless workers write them),
 * or batches of status records (`statuses/<batchId>.gz`: one `status.json` text per line, gzipped
 * when the batch is not small), which the localhost backend writes from the statuses its workers report over IPC, so a
 * million calls leave a few hundred objects instead of a million. Readers (`tswren logs`, the
 * storage monitor, reducers, returned futures) see both through these functions.
 */
import { gunzip, gzip } from "node:zlib";
import { promisify } from "node:util";
import { decodeStatus, encodeStatus } from "../protocol.js";
import type { CallStatus } from "../protocol.js";
import { ErrorCodes, TswrenError } from "../errors.js";
import type { StorageBackend } from "./backend.js";
import * as keys from "./keys.js";

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Where a job's keys live. */
export interface JobLocation {
  bucket: string;
  /** The storage prefix (`tswren.storage_prefix`). */
  prefix: string;
  executorId: string;
  jobId: string;
  /** The job's nonce, when known: statuses without it (stale or forged) are left out. */
  jobNonce?: string | undefined;
}

/** True when `status` may be the job's: it carries the job's nonce (when one is given). */
function ofJob(job: JobLocation, status: CallStatus): boolean {
  return job.jobNonce === undefined || status.jobNonce === job.jobNonce;
}

/** Batches of fewer statuses are stored as plain text (starting a gzip stream costs more than it saves). */
const GZIP_FROM_RECORDS = 32;

/**
 * Encode statuses as one batch object: newline-separated `status.json` texts, gzipped (level 1)
 * from {@link GZIP_FROM_RECORDS} records on.
 */
export async function encodeStatusBatch(statuses: readonly CallStatus[]): Promise<Buffer> {
  const text = statuses.map(encodeStatus).join("\n");
  return statuses.length < GZIP_FROM_RECORDS ? Buffer.from(text, "utf8") : gzipAsync(text, { level: 1 });
}

/**
 * Decode a batch object (gzip or plain text). Only data is read from it: nothing in it is ever evaluated.
 * @throws TswrenError `TSWREN_PROTOCOL` when a record is not a status of this protocol
 */
export async function decodeStatusBatch(bytes: Uint8Array): Promise<CallStatus[]> {
  const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b; // a status text starts with "{"
  const text = (gzipped ? await gunzipAsync(bytes) : Buffer.from(bytes)).toString("utf8");
  return text === "" ? [] : text.split("\n").map(decodeStatus);
}

/** Keep the status of the latest attempt of each call. */
function keepLatest(into: Map<string, CallStatus>, status: CallStatus): void {
  const seen = into.get(status.callId);
  if (seen === undefined || status.attempt >= seen.attempt) into.set(status.callId, status);
}

/** What {@link readJobStatuses} may skip (for callers that poll). */
export interface ReadSkips {
  /** Batch keys already read (batches never change); the ones read now are added. */
  readBatches?: Set<string>;
  /** Calls whose `status.json` need not be read. */
  skipCall?: (callId: string) => boolean;
}

/**
 * Every status of a job, the latest attempt of each call, from its `status.json` objects and
 * status batches (listed in one request).
 * @param storage - the job storage
 * @param job - where the job's keys are
 * @param skips - what was read before
 */
export async function readJobStatuses(storage: StorageBackend, job: JobLocation, skips: ReadSkips = {}): Promise<Map<string, CallStatus>> {
  const jobPrefix = keys.jobPrefix(job.prefix, job.executorId, job.jobId);
  const listed = await storage.list(job.bucket, jobPrefix);
  const found = new Map<string, CallStatus>();
  for (const o of listed) {
    if (keys.isStatusBatchKey(o.key)) {
      if (skips.readBatches?.has(o.key) === true) continue;
      for (const s of await decodeStatusBatch(await storage.get(job.bucket, o.key))) if (ofJob(job, s)) keepLatest(found, s);
      skips.readBatches?.add(o.key);
    } else if (o.key.endsWith("/status.json") && skips.skipCall?.(o.key.slice(jobPrefix.length).split("/")[0] ?? "") !== true) {
      const status = decodeStatus((await storage.get(job.bucket, o.key)).toString("utf8"));
      if (ofJob(job, status)) keepLatest(found, status);
    }
  }
  return found;
}

/**
 * One call's latest status: its `status.json`, else the newest record in the job's batches.
 * @returns null when the call has no status yet
 */
export async function readCallStatus(storage: StorageBackend, job: JobLocation, callId: string): Promise<CallStatus | null> {
  try {
    const status = decodeStatus((await storage.get(job.bucket, keys.statusKey(job.prefix, job.executorId, job.jobId, callId))).toString("utf8"));
    if (ofJob(job, status)) return status;
  } catch (err) {
    if (!(err instanceof TswrenError && err.code === ErrorCodes.NO_SUCH_KEY)) throw err;
  }
  const batches = await storage.list(job.bucket, keys.statusBatchPrefix(job.prefix, job.executorId, job.jobId));
  let latest: CallStatus | null = null;
  for (const o of batches) {
    if (!keys.isStatusBatchKey(o.key)) continue;
    for (const s of await decodeStatusBatch(await storage.get(job.bucket, o.key))) {
      if (s.callId === callId && ofJob(job, s) && (latest === null || s.attempt >= latest.attempt)) latest = s;
    }
  }
  return latest;
}
