/**
 * Stale data is never taken for a new result (issue 14), on the worker's side: a call attempt
 * given up for lost that finishes after its retry leaves the retry's `status.json` and `output`
 * alone, and a status of another job left under the same key (stale or forged) is overwritten by
 * the real one. Runs the runtime's own call loop on localhost storage and on the suite's MinIO.
 * (The monitors' side, a forged or stale status ignored, is the `staleNonce` case of the monitor
 * contract, test/integration/monitor-contract.test.ts.)
 */
import { afterAll, describe, expect, it } from "vitest";
import { runPayload } from "../../runtime/src/invocation.js";
import { encodeStatus, failedStatus, type InvocationPayload, type StorageRef } from "../../kernel-lib/src/protocol.js";
import * as keys from "../../kernel-lib/src/storage/keys.js";
import { tempDir } from "../helpers/executor.js";
import { freshBucket, minioSection, suiteMinio } from "../helpers/minio.js";
import { buildJob, localStorageRef, type TestJob } from "../helpers/payloads.js";

const root = tempDir("security-stale-status");
const jobs: TestJob[] = [];
afterAll(async () => { await Promise.all(jobs.map((j) => j.close())); });

const stores: Array<[string, () => Promise<StorageRef>]> = [
  ["localhost storage", () => Promise.resolve(localStorageRef(root))],
  ["MinIO", async () => ({ backend: "minio", config: minioSection(await suiteMinio()), bucket: freshBucket("stale"), prefix: "tswren.jobs" })],
];

/** A job whose one call returns a result too large to sit inline (so it goes to an output key). */
async function bigResultJob(ref: StorageRef): Promise<TestJob> {
  const job = await buildJob((x: number, ctx: { attempt: number }) => `${ctx.attempt}:`.padEnd(20_000, String(x)), [7], { storage: ref, overrides: { jobNonce: "a1b2c3d4e5f60718293a4b5c", maxAttempts: 2 } });
  jobs.push(job);
  return job;
}

/** The job's payload with its calls at `attempt`. */
function atAttempt(payload: InvocationPayload, attempt: number): InvocationPayload {
  return { ...payload, calls: payload.calls.map((c) => ({ ...c, attempt })) };
}

describe.each(stores)("a late attempt cannot overwrite a later attempt's record (%s)", (_name, storageRef) => {
  it("the retry's status and output stay when the first attempt finishes after it", async () => {
    const job = await bigResultJob(await storageRef());
    const [retry] = await runPayload(atAttempt(job.payload, 2), { workerId: "retry", passThroughLogs: false });
    expect(retry?.result).toMatchObject({ kind: "output", key: keys.outputKey(job.ref.prefix, job.payload.executorId, job.payload.jobId, "00000", 2) });
    const [late] = await runPayload(atAttempt(job.payload, 1), { workerId: "late", passThroughLogs: false });
    expect(late?.ok).toBe(true);
    const stored = await job.status("00000");
    expect({ attempt: stored.attempt, workerId: stored.workerId }).toEqual({ attempt: 2, workerId: "retry" });
    expect(String(await job.result(stored)).slice(0, 2)).toBe("2:");
  });

  it("a status of another job left under the call's key is replaced by the real one", async () => {
    const job = await bigResultJob(await storageRef());
    const p = job.payload;
    const forged = failedStatus({ ...p, jobNonce: "ffffffffffffffffffffffff" }, { callId: "00000", attempt: 5 }, { kind: "exception", name: "Error", message: "forged" }, "forger");
    await job.storage.put(job.ref.bucket, keys.statusKey(job.ref.prefix, p.executorId, p.jobId, "00000"), encodeStatus(forged));
    await runPayload(p, { workerId: "real", passThroughLogs: false });
    const stored = await job.status("00000");
    expect({ nonce: stored.jobNonce, workerId: stored.workerId, ok: stored.ok }).toEqual({ nonce: p.jobNonce, workerId: "real", ok: true });
    expect(String(await job.result(stored)).slice(0, 2)).toBe("1:");
  });
});
