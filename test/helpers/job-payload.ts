/**
 * Test helpers for compute backends driven directly (without an executor): a real job built by
 * {@link buildJob} on localhost storage, and waiting for the calls' statuses the runtime writes
 * (`status.json` objects or status batches), as the storage monitor would.
 */
import type { CallStatus } from "../../kernel-lib/src/protocol.js";
import * as keys from "../../kernel-lib/src/storage/keys.js";
import { readJobStatuses } from "../../kernel-lib/src/storage/status-records.js";
import { buildJob, localStorageRef, type TestJob } from "./payloads.js";

const BUCKET = "tswren-data";
const PREFIX = "tswren.jobs";

export type { TestJob } from "./payloads.js";

/**
 * Capture `fn`, upload it to a localhost storage at `root`, and build the payload of a job whose
 * calls take `items`.
 */
export function testJob(root: string, ids: { executorId: string; jobId: string }, fn: Function, items: unknown[], memoryMb = 256): Promise<TestJob> {
  return buildJob(fn, items, { storage: localStorageRef(root, BUCKET, PREFIX), executorId: ids.executorId, jobId: ids.jobId, timeoutMs: 30_000, memoryMb });
}

function jobListing(job: TestJob): Promise<string[]> {
  const { payload, ref, storage } = job;
  return storage.list(ref.bucket, keys.jobPrefix(ref.prefix, payload.executorId, payload.jobId)).then((found) => found.map((o) => o.key));
}

/**
 * Wait until every call of the payload has a status (its `status.json`, or a record in the job's
 * status batches, as localhost worker pools write them), then return the statuses in call order.
 * @throws Error after `timeoutMs`, naming the calls still missing
 */
export async function waitForStatuses(job: TestJob, timeoutMs = 30_000): Promise<CallStatus[]> {
  const { payload, ref, storage } = job;
  const deadline = Date.now() + timeoutMs;
  const location = { bucket: ref.bucket, prefix: ref.prefix, executorId: payload.executorId, jobId: payload.jobId };
  for (;;) {
    const found = await readJobStatuses(storage, location);
    const missing = payload.calls.filter((c) => !found.has(c.callId)).map((c) => keys.statusKey(ref.prefix, payload.executorId, payload.jobId, c.callId));
    if (missing.length === 0) return payload.calls.map((c) => found.get(c.callId) as CallStatus);
    if (Date.now() > deadline) throw new Error(`no status after ${timeoutMs} ms for ${missing.length} calls, e.g. ${missing[0] ?? ""}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Keys of the job's `start` markers present now. */
export async function startMarkers(job: TestJob): Promise<string[]> {
  return (await jobListing(job)).filter((k) => k.endsWith("/start"));
}
