/** The limits of a job's calls: the call's options, else the compute section and `tswren.retries`. */
import type { CallOptions } from "./options.js";

/** Limits of every call of one job. */
export interface JobLimits {
  timeoutMs: number;
  memoryMb: number;
  retries: number;
  extraEnv: Record<string, string>;
}

/**
 * @param section - the compute backend's `runtime_memory` (MB) and `runtime_timeout` (s)
 * @param retries - `tswren.retries`
 * @param opts - the call's options, which win
 */
export function jobLimits(section: { runtime_memory: number; runtime_timeout: number }, retries: number, opts: CallOptions): JobLimits {
  const timeoutS = opts.timeout ?? section.runtime_timeout;
  return {
    timeoutMs: Math.round(timeoutS * 1000),
    memoryMb: opts.runtimeMemory ?? section.runtime_memory,
    retries: opts.retries ?? retries,
    extraEnv: opts.extraEnv ?? {},
  };
}
