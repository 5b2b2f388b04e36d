/**
 * The invoker: splits a job's calls into invocations of the size the backend takes and hands
 * them to the compute backend.
 */
import type { ComputeBackend } from "./compute/backend.js";
import type { CallSpec, InvocationPayload } from "./protocol.js";

/**
 * Invoke `calls` of one job; resolves once every invocation was accepted.
 * @param options - `remote`: send the whole job as one invocation that fans out inside the
 *   platform (when the backend can), so the client's submit time stays flat as jobs grow
 */
export async function invokeCalls(
  compute: ComputeBackend,
  base: Omit<InvocationPayload, "calls">,
  calls: CallSpec[],
  options: { remote?: boolean } = {},
): Promise<void> {
  const size = compute.callsPerInvocation ?? 1;
  if (options.remote === true && compute.capabilities.remoteInvoker && compute.invokeRemote !== undefined && calls.length > size) {
    await compute.invokeRemote({ ...base, calls }, size);
    return;
  }
  const invocations: Promise<unknown>[] = [];
  for (let i = 0; i < calls.length; i += size) {
    invocations.push(compute.invoke({ ...base, calls: calls.slice(i, i + size) }));
  }
  await Promise.all(invocations);
}
