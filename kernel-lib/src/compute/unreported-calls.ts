/**
 * Which calls of an invocation wrote no status of their own: read from the job storage named in
 * the payload (one client per storage, opened on first use). Used when the platform says an
 * activation died, so that a call that reported before the activation ended keeps its status.
 */
import { decodeStatus } from "../protocol.js";
import type { CallSpec, InvocationPayload } from "../protocol.js";
import * as keys from "../storage/keys.js";
import { PayloadStorages } from "./payload-storages.js";

/** Reads calls' `status.json` to tell which ones did not report. */
export class UnreportedCalls {
  private readonly storages = new PayloadStorages();

  /**
   * The calls of `payload` with no status for their attempt (or a later one).
   * @param payload - the invocation (storage, ids, calls)
   * @returns the calls that did not report; on a storage failure, those not known to have reported
   */
  async of(payload: InvocationPayload): Promise<CallSpec[]> {
    const storage = await this.storages.of(payload);
    const { bucket, prefix } = payload.storage;
    const reported = await Promise.all(payload.calls.map(async (call) => {
      try {
        const text = (await storage.get(bucket, keys.statusKey(prefix, payload.executorId, payload.jobId, call.callId))).toString("utf8");
        const status = decodeStatus(text);
        return status.jobNonce === payload.jobNonce && status.attempt >= call.attempt;
      } catch {
        // No status (or storage did not answer): the call is not known to have reported.
        return false;
      }
    }));
    return payload.calls.filter((_, i) => !(reported[i] ?? false));
  }

  /** Close the storage clients. */
  async close(): Promise<void> {
    await this.storages.close();
  }
}
