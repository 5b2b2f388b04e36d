/**
 * Ids in the Lithops style: executor `<16 hex>-<n>` (64 random bits per process, so a new
 * executor never meets an old one's keys), job `M000`, call `00000`.
 */
import { randomBytes } from "node:crypto";

const sessionHex = randomBytes(8).toString("hex");
let executorCounter = 0;

/** A new executor id, unique within this process and unlikely to clash across processes. */
export function newExecutorId(): string {
  return `${sessionHex}-${executorCounter++}`;
}

/** Job kinds: `A` a single callAsync, `M` a map, `R` a reduce. */
export type JobKind = "A" | "M" | "R";

/** The id of the executor's n-th job of the given kind. */
export function jobId(kind: JobKind, n: number): string {
  return `${kind}${String(n).padStart(3, "0")}`;
}

/** The id of the i-th call of a job. */
export function callId(i: number): string {
  return String(i).padStart(5, "0");
}
