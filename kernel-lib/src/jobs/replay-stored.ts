/**
 * Replaying a call of a job this process did not submit (`tswren replay <call>`, `fx.replay` of an
 * attached future): the job's payload comes from its record and the call's spec from the job's
 * `calls.json`, both in storage; the storage section comes from this process's configuration.
 */
import { ErrorCodes, TswrenError } from "../errors.js";
import { callId as formatCallId } from "../ids.js";
import type { StorageRef } from "../protocol.js";
import type { ReplaySource } from "../replay.js";
import type { StorageBackend } from "../storage/backend.js";
import * as keys from "../storage/keys.js";
import { decodeCallSpecs } from "./call-specs.js";
import { readJobRecord } from "./job-record.js";

/** A call's ids. */
export interface CallIds {
  executorId: string;
  jobId: string;
  callId: string;
}

/**
 * Split a call reference: `<executorId>/<jobId>/<callId>` (as error messages name calls) or
 * `<executorId>-<jobId>-<callId>`; the call id may be given as a number (`7` for `00007`).
 * @throws TswrenError `TSWREN_BAD_INPUT`
 */
export function parseCallRef(ref: string): CallIds {
  const m = /^([0-9a-f]+-\d+)[/-]([AMR]\d{3,})[/-](\d+)$/.exec(ref.trim());
  if (m === null || m[1] === undefined || m[2] === undefined || m[3] === undefined) {
    throw new TswrenError(ErrorCodes.BAD_INPUT, `not a call reference: ${JSON.stringify(ref)}; give "<executorId>/<jobId>/<callId>" as error messages name calls (e.g. 9f86d081884c7d65-0/M000/00003)`);
  }
  return { executorId: m[1], jobId: m[2], callId: formatCallId(Number.parseInt(m[3], 10)) };
}

/**
 * What replaying a call needs, read from storage.
 * @param storageRef - this process's storage (backend, section, bucket, prefix)
 * @throws TswrenError `TSWREN_NO_SUCH_JOB` (no record), `TSWREN_BAD_INPUT` (no such call, a job too
 *   large to keep its call specs, a reducer), `TSWREN_NO_SUCH_KEY` (the job's data was cleaned)
 */
export async function storedReplaySource(storage: StorageBackend, storageRef: StorageRef, ids: CallIds): Promise<ReplaySource> {
  const record = await readJobRecord(storage, storageRef.bucket, storageRef.prefix, ids);
  const where = `${ids.executorId}/${ids.jobId}/${ids.callId}`;
  if (!record.replayable) throw new TswrenError(ErrorCodes.BAD_INPUT, `call ${where} cannot be replayed from another process: its job was too large to keep its call specs; replay it with fx.replay(future) in the process that submitted it`);
  const key = keys.callSpecsKey(storageRef.prefix, ids.executorId, ids.jobId);
  let text: string;
  try {
    text = (await storage.get(storageRef.bucket, key)).toString("utf8");
  } catch (err) {
    throw new TswrenError(ErrorCodes.NO_SUCH_KEY, `the call specs of job ${ids.executorId}-${ids.jobId} are no longer in storage (its data was cleaned?); run the job again instead`, { cause: err });
  }
  const call = decodeCallSpecs(text, key).find((c) => c.callId === ids.callId);
  if (call === undefined) throw new TswrenError(ErrorCodes.BAD_INPUT, `job ${ids.executorId}-${ids.jobId} has no call ${ids.callId} (it has ${record.calls} calls: 00000 to ${formatCallId(record.calls - 1)})`);
  if (call.input.kind === "reduce") throw new TswrenError(ErrorCodes.BAD_INPUT, `call ${where} is a reducer: replay it with fx.replay(future) in the process that submitted it (its input is the map calls' results)`);
  return { base: { ...record.base, storage: storageRef }, call };
}
