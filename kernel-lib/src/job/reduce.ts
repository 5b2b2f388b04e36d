/** The calls of a reduce job: one reducer over all map calls, or one per object of `objects(...)`. */
import type { PartSpec } from "../data/partitioner.js";
import { callId } from "../ids.js";
import type { CallSpec } from "../protocol.js";

/** How the reducers of a job are laid out. */
export interface ReduceLayout {
  mapJobId: string;
  /** Call ids of the map job, in map order. */
  mapCallIds: string[];
  /** Part specs of the map calls (objects input), else null. */
  parts: PartSpec[] | null;
  onePerObject: boolean;
  maxAttempts: number;
  waitRemote: boolean;
}

/**
 * Reduce calls for a map job: one over every map result, or one per object, each given its own
 * parts' results in part order.
 */
export function reduceCalls(layout: ReduceLayout): CallSpec[] {
  const groups: string[][] = [];
  if (layout.onePerObject && layout.parts !== null) {
    const byObject = new Map<number, Array<{ part: number; callId: string }>>();
    layout.parts.forEach((p, i) => {
      const list = byObject.get(p.objectIndex) ?? [];
      list.push({ part: p.part, callId: layout.mapCallIds[i] });
      byObject.set(p.objectIndex, list);
    });
    for (const index of [...byObject.keys()].sort((a, b) => a - b)) {
      groups.push((byObject.get(index) ?? []).sort((a, b) => a.part - b.part).map((x) => x.callId));
    }
  } else {
    groups.push(layout.mapCallIds);
  }
  return groups.map((mapCallIds, i) => ({
    callId: callId(i),
    attempt: 1,
    input: { kind: "reduce", mapJobId: layout.mapJobId, mapCallIds, maxAttempts: layout.maxAttempts, waitRemote: layout.waitRemote },
  }));
}

/**
 * Give reduce calls the nonce of the map job they combine (the executor knows it once the map
 * job was submitted): the reducer then takes only map statuses that carry it.
 * @param calls - a job's calls (other inputs are left alone)
 * @param nonceOf - the nonce of a submitted job
 */
export function addMapJobNonces(calls: CallSpec[], nonceOf: (jobId: string) => string | undefined): void {
  for (const call of calls) {
    if (call.input.kind !== "reduce") continue;
    const nonce = nonceOf(call.input.mapJobId);
    if (nonce !== undefined) call.input = { ...call.input, mapJobNonce: nonce };
  }
}
