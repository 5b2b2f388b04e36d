/** The context a function receives as its second argument. */
import type { Storage } from "./storage/storage.js";

/** Context of one call, handed to the function as `(item, ctx)`. */
export interface CallContext {
  /** Index of the call in its job (0-based), the Lithops call id as a number. */
  id: number;
  /** Call id as used in storage keys, e.g. `00007`. */
  callId: string;
  jobId: string;
  executorId: string;
  /** 1-based attempt number (a retry increases it). */
  attempt: number;
  /** Object storage client; its default bucket is the job's bucket. */
  storage: Storage;
  /** Aborted when the call runs out of time. */
  signal: AbortSignal;
}
