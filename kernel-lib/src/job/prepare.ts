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
  const arena = new Arena();
  let offset = 0;
  items.forEach((item, i) => {
    const bytes = serializeValue(item, `input[${i}]`);
    if (bytes.length <= INLINE_LIMIT_BYTES) {
      calls.push({ callId: callId(i), attempt: 1, input: { kind: "inline", bytes: arena.copy(bytes) } });
    } else {
      calls.push({ callId: callId(i), attempt: 1, input: { kind: "range", start: offset, end: offset + bytes.length } });
      parts.push(bytes);
      offset += bytes.length;
    }
  });
  return { calls, blob: parts.length > 0 ? Buffer.concat(parts) : null };
}

const ARENA_CHUNK_BYTES = 256 * 1024;

/**
 * Packs many small serialized inputs into shared chunks: each `v8.serialize` result owns a
 * separately allocated buffer much larger than its content, which at 100,000 items costs more
 * memory than the inputs themselves.
 */
class Arena {
  private chunk = Buffer.allocUnsafe(ARENA_CHUNK_BYTES);
  private used = 0;

  /** A copy of `bytes` inside the arena. */
  copy(bytes: Uint8Array): Uint8Array {
    if (this.used + bytes.length > this.chunk.length) {
      this.chunk = Buffer.allocUnsafe(Math.max(ARENA_CHUNK_BYTES, bytes.length));
      this.used = 0;
    }
    this.chunk.set(bytes, this.used);
    const view = this.chunk.subarray(this.used, this.used + bytes.length);
    this.used += bytes.length;
    return view;
  }
}
