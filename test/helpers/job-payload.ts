/**
 * Test helpers for compute backends driven directly (without an executor): build a real job
 * (captured function uploaded to localhost storage, inputs inline) as an invocation payload, and
 * wait for the calls' `status.json` objects the runtime writes.
 */
import { captureFunction } from "../../kernel-lib/src/job/capture/index.js";
import { decodeStatus, PROTOCOL_VERSION } from "../../kernel-lib/src/protocol.js";
import type { CallSpec, CallStatus, InvocationPayload } from "../../kernel-lib/src/protocol.js";
import { serializeValue } from "../../kernel-lib/src/serialize.js";
import * as keys from "../../kernel-lib/src/storage/keys.js";
import { LocalhostStorage } from "../../kernel-lib/src/storage/localhost.js";
import { TSWREN_VERSION } from "../../kernel-lib/src/version.js";

const BUCKET = "tswren-data";
const PREFIX = "tswren.jobs";

/** A job ready to invoke, and where its statuses will appear. */
export interface TestJob {
  payload: InvocationPayload;
  storage: LocalhostStorage;
}

/**
 * Capture `fn`, upload it to a localhost storage at `root`, and build the payload of a job whose
 * calls take `items` (inline).
 */
export async function testJob(root: string, ids: { executorId: string; jobId: string }, fn: Function, items: unknown[], memoryMb = 256): Promise<TestJob> {
  const storage = new LocalhostStorage({ storage_root: root });
  await storage.ensureBucket(BUCKET);
  const captured = await captureFunction(fn);
  const funcKey = keys.funcKey(PREFIX, ids.executorId, captured.hash);
  await storage.put(BUCKET, funcKey, captured.bundleBytes);
  for (const m of captured.modules) await storage.put(BUCKET, keys.moduleKey(PREFIX, ids.executorId, m.hash), m.source);
  const calls: CallSpec[] = items.map((item, i) => ({
    callId: String(i).padStart(5, "0"),
    attempt: 1,
    input: { kind: "inline", bytes: serializeValue(item, `input[${i}]`) },
  }));
  const now = Date.now();
  const payload: InvocationPayload = {
    protocolVersion: PROTOCOL_VERSION,
    tswrenVersion: TSWREN_VERSION,
    executorId: ids.executorId,
    jobId: ids.jobId,
    funcKey,
    dataKey: null,
    inputKind: "value",
    calls,
    timeoutMs: 30_000,
    memoryMb,
    extraEnv: {},
    storage: { backend: "localhost", config: { storage_root: root }, bucket: BUCKET, prefix: PREFIX },
    hostJobCreateMs: now,
    hostSubmitMs: now,
  };
  return { payload, storage };
}

/**
 * Wait until every call of the payload has a `status.json` (checking storage as the storage
 * monitor does), then return the statuses in call order.
 * @throws Error after `timeoutMs`, naming the calls still missing
 */
export async function waitForStatuses(job: TestJob, timeoutMs = 30_000): Promise<CallStatus[]> {
  const { payload, storage } = job;
  const deadline = Date.now() + timeoutMs;
  const wanted = payload.calls.map((c) => keys.statusKey(PREFIX, payload.executorId, payload.jobId, c.callId));
  for (;;) {
    const present = new Set((await storage.list(BUCKET, keys.jobPrefix(PREFIX, payload.executorId, payload.jobId))).map((o) => o.key));
    const missing = wanted.filter((k) => !present.has(k));
    if (missing.length === 0) break;
    if (Date.now() > deadline) throw new Error(`no status after ${timeoutMs} ms for ${missing.length} calls, e.g. ${missing[0] ?? ""}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Promise.all(wanted.map(async (k) => decodeStatus(Buffer.from(await storage.get(BUCKET, k)).toString("utf8"))));
}

/** Keys of the job's `start` markers present now. */
export async function startMarkers(job: TestJob): Promise<string[]> {
  const { payload, storage } = job;
  const found = await storage.list(BUCKET, keys.jobPrefix(PREFIX, payload.executorId, payload.jobId));
  return found.map((o) => o.key).filter((k) => k.endsWith("/start"));
}
