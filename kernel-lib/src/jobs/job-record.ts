/**
 * Job records: one small JSON object per job under `<prefix>/jobs/`, written by the client that
 * submitted the job (state `running`) and rewritten when every call ended (final state and
 * cost). They are what `tswren jobs` lists and what `attach(jobRef)` finds a job by. A record
 * holds no secret: the storage section is left out (a reader uses its own configuration).
 */
import { hostname } from "node:os";
import { ErrorCodes, TswrenError } from "../errors.js";
import type { InvocationPayload } from "../protocol.js";
import type { StorageBackend } from "../storage/backend.js";
import * as keys from "../storage/keys.js";

/** Version of the record format. */
export const JOB_RECORD_VERSION = 1;

/** Where a job is in its life, as its client last wrote it. */
export type JobRecordState = "running" | "done" | "failed" | "cancelled";

/** What a job's final record says it cost (see `fx.cost`). */
export interface JobRecordCost {
  gbSeconds: number;
  usd: number;
  billedSeconds: number;
}

/** The job's payload fields a reader needs (to watch, read results and replay calls); no secrets. */
export type JobRecordBase = Pick<
  InvocationPayload,
  "protocolVersion" | "tswrenVersion" | "executorId" | "jobId" | "funcKey" | "funcHash" | "moduleHashes" | "jobNonce" | "dataKey" | "inputKind" | "timeoutMs" | "memoryMb" | "extraEnv" | "hostJobCreateMs"
>;

/** One job's record. */
export interface JobRecord {
  recordVersion: typeof JOB_RECORD_VERSION;
  executorId: string;
  jobId: string;
  /** The function's name (or the `name` option), or "" for an anonymous function. */
  functionName: string;
  /** When the job's calls were handed to the backend, ms since the epoch (client clock). */
  hostSubmitMs: number;
  /** Number of calls. */
  calls: number;
  /** Compute backend the job ran on. */
  backend: string;
  /** Storage backend, bucket and prefix of the job's keys. */
  storage: { backend: string; bucket: string; prefix: string };
  /** Attempts a call may take (retries + 1). */
  maxAttempts: number;
  /** Calls per invocation on the backend (for deadlines of queued calls). */
  callsPerInvocation: number;
  /** False for the map calls of a mapReduce (their results feed the reducer). */
  producesOutput: boolean;
  /** True for a job that gives one value (`callAsync`, a single reducer). */
  single: boolean;
  /** The client process that submitted it: localhost and docker calls die with it. */
  client: { host: string; pid: number };
  state: JobRecordState;
  /** When the last call ended (final states only). */
  endedMs?: number;
  /** Calls that ended successfully / with an error (final states only). */
  succeeded?: number;
  failed?: number;
  cost?: JobRecordCost;
  /** True when the call specs were kept for `tswren replay` (`calls.json` in the job's folder). */
  replayable: boolean;
  base: JobRecordBase;
}

/** `<executorId>-<jobId>` of a record (what `tswren jobs` prints and `attach` accepts). */
export function jobRefOf(record: Pick<JobRecord, "executorId" | "jobId">): string {
  return `${record.executorId}-${record.jobId}`;
}

/**
 * Split a job reference `<executorId>-<jobId>` (e.g. `9f86d081884c7d65-0-M001`).
 * @throws TswrenError `TSWREN_BAD_INPUT` for anything else
 */
export function parseJobRef(ref: string | { executorId: string; jobId: string }): { executorId: string; jobId: string } {
  if (typeof ref === "object" && ref !== null && typeof ref.executorId === "string" && typeof ref.jobId === "string") return { executorId: ref.executorId, jobId: ref.jobId };
  const m = typeof ref === "string" ? /^([0-9a-f]+-\d+)-([AMR]\d{3,})$/.exec(ref.trim()) : null;
  if (m === null || m[1] === undefined || m[2] === undefined) {
    throw new TswrenError(ErrorCodes.BAD_INPUT, `not a job reference: ${JSON.stringify(ref)}; give "<executorId>-<jobId>" as \`tswren jobs\` lists it (e.g. "9f86d081884c7d65-0-M000") or a future's { executorId, jobId }`);
  }
  return { executorId: m[1], jobId: m[2] };
}

/** The client identity written in records. */
export function thisClient(): JobRecord["client"] {
  return { host: hostname(), pid: process.pid };
}

/**
 * True when the record's client process is known to have ended (same host, no such pid). A
 * client on another host is assumed alive.
 */
export function clientGone(client: JobRecord["client"]): boolean {
  if (client.host !== hostname()) return false;
  if (client.pid === process.pid) return false;
  try {
    process.kill(client.pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/** Backends whose calls are run by the client process (localhost workers, docker exec): they end with it. */
export function clientBound(backend: string): boolean {
  return backend === "localhost" || backend === "docker";
}

/** Write (or rewrite) a record. */
export async function writeJobRecord(storage: StorageBackend, record: JobRecord): Promise<void> {
  const key = keys.jobRecordKey(record.storage.prefix, record.executorId, record.jobId);
  await storage.put(record.storage.bucket, key, JSON.stringify(record));
}

/** Decode a record read from storage. @throws TswrenError `TSWREN_PROTOCOL` for anything else */
export function decodeJobRecord(text: string, key: string): JobRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new TswrenError(ErrorCodes.PROTOCOL, `job record ${key} is not JSON`, { cause: err });
  }
  const r = value as Partial<JobRecord> | null;
  if (r === null || typeof r !== "object" || r.recordVersion !== JOB_RECORD_VERSION || typeof r.executorId !== "string" || typeof r.jobId !== "string" || typeof r.calls !== "number" || typeof r.base !== "object") {
    throw new TswrenError(ErrorCodes.PROTOCOL, `job record ${key} is not a tswren job record of version ${JOB_RECORD_VERSION} (written by another tswren version?)`);
  }
  return r as JobRecord;
}

/**
 * Read one job's record.
 * @throws TswrenError `TSWREN_NO_SUCH_JOB` when there is none
 */
export async function readJobRecord(storage: StorageBackend, bucket: string, prefix: string, ref: { executorId: string; jobId: string }): Promise<JobRecord> {
  const key = keys.jobRecordKey(prefix, ref.executorId, ref.jobId);
  let text: string;
  try {
    text = (await storage.get(bucket, key)).toString("utf8");
  } catch (err) {
    if (err instanceof TswrenError && (err.code === ErrorCodes.NO_SUCH_KEY || err.code === ErrorCodes.NO_SUCH_BUCKET)) {
      throw new TswrenError(ErrorCodes.NO_SUCH_JOB, `no job ${ref.executorId}-${ref.jobId} in ${bucket}/${keys.jobRecordsPrefix(prefix)} (${storage.name} storage): it was cleaned, or ran with another storage, bucket or prefix; \`tswren jobs\` lists the jobs there`, { cause: err });
    }
    throw err;
  }
  return decodeJobRecord(text, key);
}

/**
 * The most recent job records (newest first).
 * @param limit - at most this many
 */
export async function listJobRecords(storage: StorageBackend, bucket: string, prefix: string, limit: number): Promise<JobRecord[]> {
  if (!(await storage.bucketExists(bucket))) return [];
  const listed = (await storage.list(bucket, keys.jobRecordsPrefix(prefix))).filter((o) => o.key.endsWith(".json"));
  listed.sort((a, b) => b.lastModifiedMs - a.lastModifiedMs || b.key.localeCompare(a.key));
  const records = await Promise.all(listed.slice(0, limit).map(async (o) => {
    try {
      return decodeJobRecord((await storage.get(bucket, o.key)).toString("utf8"), o.key);
    } catch {
      return null; // deleted meanwhile, or another version's record
    }
  }));
  return records.filter((r): r is JobRecord => r !== null).sort((a, b) => b.hostSubmitMs - a.hostSubmitMs);
}
