/**
 * The invoker: splits a job's calls into invocations of the size the backend takes and hands
 * them to the compute backend.
 */
import type { ComputeBackend } from "./compute/backend.js";
import type { CallSpec, InvocationPayload } from "./protocol.js";

/** Invoke `calls` of one job; resolves once every invocation was accepted. */
export async function invokeCalls(
  compute: ComputeBackend,
  base: Omit<InvocationPayload, "calls">,
  calls: CallSpec[],
): Promise<void> {
  const size = compute.callsPerInvocation ?? 1;
  const invocations: Promise<unknown>[] = [];
  for (let i = 0; i < calls.length; i += size) {
    invocations.push(compute.invoke({ ...base, calls: calls.slice(i, i + size) }));
  }
  await Promise.all(invocations);
}
