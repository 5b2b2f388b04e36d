/**
 * The storage key layout of the job protocol, in one place:
 * `<prefix>/<executorId>/<hash>.func`, `<prefix>/<executorId>/<hash>.mod`,
 * `<prefix>/<executorId>-<jobId>/data`, `<prefix>/<executorId>-<jobId>/<callId>/{start,status.json,output}`,
 * and on localhost compute, batched status records `<prefix>/<executorId>-<jobId>/statuses/<batchId>.gz`
 * instead of one `status.json` per call.
 */

function join(prefix: string, rest: string): string {
  const p = prefix.replace(/\/+$/, "");
  return p === "" ? rest : `${p}/${rest}`;
}

/** Prefix holding everything one executor wrote (its function bundles and modules). */
export function executorPrefix(prefix: string, executorId: string): string {
  return join(prefix, `${executorId}/`);
}

/** Key of a function bundle, stored once per content hash. */
export function funcKey(prefix: string, executorId: string, hash: string): string {
  return join(prefix, `${executorId}/${hash}.func`);
}

/** Key of a bundled npm module, stored once per content hash. */
export function moduleKey(prefix: string, executorId: string, hash: string): string {
  return join(prefix, `${executorId}/${hash}.mod`);
}

/** Prefix holding one job's input blob and call outputs. */
export function jobPrefix(prefix: string, executorId: string, jobId: string): string {
  return join(prefix, `${executorId}-${jobId}/`);
}

/** Key of a job's input blob (the inputs that did not travel inline, one byte range per call). */
export function dataKey(prefix: string, executorId: string, jobId: string): string {
  return join(prefix, `${executorId}-${jobId}/data`);
}

/** Key of a job's invocation payload staged for the remote invoker (large jobs). */
export function remotePayloadKey(prefix: string, executorId: string, jobId: string): string {
  return join(prefix, `${executorId}-${jobId}/remote-invoke.json`);
}

/** Key of a call's marker written when a worker picks it up. */
export function startKey(prefix: string, executorId: string, jobId: string, callId: string): string {
  return join(prefix, `${executorId}-${jobId}/${callId}/start`);
}

/** Key of a call's final status. */
export function statusKey(prefix: string, executorId: string, jobId: string, callId: string): string {
  return join(prefix, `${executorId}-${jobId}/${callId}/status.json`);
}

/** Prefix of a job's batched status records (localhost compute: many calls' statuses per object). */
export function statusBatchPrefix(prefix: string, executorId: string, jobId: string): string {
  return join(prefix, `${executorId}-${jobId}/statuses/`);
}

/** Key of one batch of a job's status records (`batchId`: unique per writer, sortable). */
export function statusBatchKey(prefix: string, executorId: string, jobId: string, batchId: string): string {
  return join(prefix, `${executorId}-${jobId}/statuses/${batchId}.gz`);
}

/** True for keys written by {@link statusBatchKey}. */
export function isStatusBatchKey(key: string): boolean {
  return /\/statuses\/[^/]+\.gz$/.test(key);
}

/**
 * Key of a call's result when it is too large to sit inline in its status: `output` for the
 * first attempt, `output.<attempt>` for retries, so a late attempt never overwrites a later one's.
 */
export function outputKey(prefix: string, executorId: string, jobId: string, callId: string, attempt = 1): string {
  return join(prefix, `${executorId}-${jobId}/${callId}/${attempt > 1 ? `output.${attempt}` : "output"}`);
}

/**
 * The prefixes that hold all of one executor's keys, for the data cleaner: its own folder and
 * every `<executorId>-<jobId>/` folder, and its job records. Nothing outside these is ever deleted.
 */
export function executorKeyPrefixes(prefix: string, executorId: string): { own: string; jobs: string; records: string } {
  return { own: executorPrefix(prefix, executorId), jobs: join(prefix, `${executorId}-`), records: join(prefix, `jobs/${executorId}-`) };
}

/** Prefix of the job records (`tswren jobs`, `attach`): `<prefix>/jobs/`. */
export function jobRecordsPrefix(prefix: string): string {
  return join(prefix, "jobs/");
}

/** Key of one job's record: `<prefix>/jobs/<executorId>-<jobId>.json`. */
export function jobRecordKey(prefix: string, executorId: string, jobId: string): string {
  return join(prefix, `jobs/${executorId}-${jobId}.json`);
}

/** Key of a job's call specs, kept for `tswren replay` (small jobs only). */
export function callSpecsKey(prefix: string, executorId: string, jobId: string): string {
  return join(prefix, `${executorId}-${jobId}/calls.json`);
}
