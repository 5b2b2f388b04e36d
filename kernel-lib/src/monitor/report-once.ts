/**
 * Every monitor reports each call attempt's start and end at most once, in that order: a second
 * status of an attempt (a re-delivered message, a platform report next to the worker's) and a
 * start that arrives after the attempt ended (a late marker or message) are dropped here.
 */
import type { CallStatus } from "../protocol.js";

/** Remembers which call attempts started and ended. */
export class ReportOnce {
  private readonly started = new Set<string>();
  private readonly ended = new Set<string>();

  /** True the first time an attempt is seen starting, unless it already ended. */
  start(jobId: string, callId: string, attempt: number): boolean {
    const key = `${jobId}/${callId}/${attempt}`;
    if (this.ended.has(key) || this.started.has(key)) return false;
    this.started.add(key);
    return true;
  }

  /** True the first time an attempt's status is seen. */
  status(status: CallStatus): boolean {
    const key = `${status.jobId}/${status.callId}/${status.attempt}`;
    if (this.ended.has(key)) return false;
    this.ended.add(key);
    this.started.delete(key);
    return true;
  }
}
