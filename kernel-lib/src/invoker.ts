/**
 * The invoker: splits a job's calls into invocations of the size the backend takes and hands
 * them to the compute backend.
 */
import type { ComputeBackend, StagedPayload } from "./compute/backend.js";
import type { CallSpec, InvocationPayload } from "./protocol.js";

/**
 * Invoke `calls` of one job; resolves once every invocation was accepted.
 * @param options - `remote`: send the whole job as one invocation that fans out inside the
 *   platform (when the backend can), so the client's submit time stays flat as jobs grow;
 *   `staged`: where a large job's payload was stored for the remote invoker
 */
export async function invokeCalls(
  compute: ComputeBackend,
  base: Omit<InvocationPayload, "calls">,
  calls: CallSpec[],
  options: { remote?: boolean; staged?: StagedPayload } = {},
): Promise<void> {
  const size = compute.callsPerInvocation ?? 1;
  const remoteInvoke = compute.capabilities.remoteInvoke;
  if (remoteInvoke !== undefined && usesRemoteInvoker(compute, calls.length, options.remote === true)) {
    await remoteInvoke.invoke({ ...base, calls }, size, options.staged);
    return;
  }
  const invocations: Promise<unknown>[] = [];
  for (let i = 0; i < calls.length; i += size) {
    invocations.push(compute.invoke({ ...base, calls: calls.slice(i, i + size) }));
  }
  await Promise.all(invocations);
}

/**
 * Whether a job will go through the remote invoker (then its payload may be staged).
 * @param compute - the backend
 * @param calls - number of calls of the job
 * @param remote - the job asked for the remote invoker
 */
export function usesRemoteInvoker(compute: ComputeBackend, calls: number, remote: boolean): boolean {
  return remote && compute.capabilities.remoteInvoke !== undefined && calls > (compute.callsPerInvocation ?? 1);
}
