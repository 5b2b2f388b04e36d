/**
 * Names of jobs for people (progress bars, chart titles): the `name` option of a submission or
 * its function's name, remembered by `executorId-jobId`.
 */

/** How many job names are remembered (the oldest are forgotten first). */
const MAX_NAMES = 10_000;

const names = new Map<string, string>();

/**
 * Remember a job's name (ignored when empty).
 * @param executorId - the job's executor
 * @param jobId - the job
 * @param name - the `name` option, else the function's name
 */
export function nameJob(executorId: string, jobId: string, name: string | undefined): void {
  if (name === undefined || name === "") return;
  names.set(`${executorId}-${jobId}`, name);
  if (names.size > MAX_NAMES) names.delete(names.keys().next().value as string);
}

/**
 * A job's name, if it has one.
 * @returns the name given by {@link nameJob}, or undefined
 */
export function jobName(executorId: string, jobId: string): string | undefined {
  return names.get(`${executorId}-${jobId}`);
}
