/**
 * Turns a job's input items into call specs: each item is serialized once; small ones travel
 * inline in the invocation, larger ones are appended to one input blob with a byte range per call.
 */
import { INLINE_LIMIT_BYTES } from "../protocol.js";
import type { CallSpec } from "../protocol.js";
import { callId } from "../ids.js";
import { serializeValue } from "../serialize.js";

/** Call specs of a job and the blob holding its non-inline inputs (null when all are inline). */
export interface PreparedInputs {
  calls: CallSpec[];
  blob: Buffer | null;
}

/**
 * Serialize every item (errors name `input[i]` and the offending path inside it).
 * @throws TswrenError `TSWREN_NOT_SERIALIZABLE`
 */
export function prepareInputs(items: readonly unknown[]): PreparedInputs {
  const calls: CallSpec[] = [];
  const parts: Buffer[] = [];
  let offset = 0;
  items.forEach((item, i) => {
    const bytes = serializeValue(item, `input[${i}]`);
    if (bytes.length <= INLINE_LIMIT_BYTES) {
      calls.push({ callId: callId(i), attempt: 1, input: { kind: "inline", bytes } });
    } else {
      calls.push({ callId: callId(i), attempt: 1, input: { kind: "range", start: offset, end: offset + bytes.length } });
      parts.push(bytes);
      offset += bytes.length;
    }
  });
  return { calls, blob: parts.length > 0 ? Buffer.concat(parts) : null };
}
