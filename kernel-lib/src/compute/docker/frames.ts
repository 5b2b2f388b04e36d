/**
 * The docker backend's channel between the client and a container's runtime: the container's
 * stdin and stdout (attached by `docker run -i`), carrying length-prefixed frames, each one
 * message encoded with `node:v8` serialization (the same structured clone the localhost pool's
 * IPC channel uses, so payloads with byte arrays travel as they are).
 */
import { deserialize, serialize } from "node:v8";
import type { CallStatus, InvocationPayload } from "../../protocol.js";
import { ErrorCodes, TswrenError } from "../../errors.js";

/** Messages from the client to a container's runtime. */
export type DockerHostMessage = { type: "invoke"; payload: InvocationPayload } | { type: "shutdown" };

/** Messages from a container's runtime to the client. */
export type DockerWorkerMessage =
  | { type: "ready"; workerId: string; nodeVersion: string }
  /** A call was picked up (its timeout counts from here). */
  | { type: "start"; executorId: string; jobId: string; callId: string; workerStartMs: number }
  | { type: "status"; status: CallStatus }
  /** The runtime runs nothing more and exits after this (calls sent to it were not started). */
  | { type: "retiring"; reason: string };

const HEADER_BYTES = 4;
/** Largest frame accepted; larger lengths mean the stream is not a frame stream. */
const MAX_FRAME_BYTES = 256 * 1024 * 1024;

/** One message as a frame: 4-byte big-endian length, then the serialized message. */
export function encodeFrame(message: DockerHostMessage | DockerWorkerMessage): Buffer {
  const body = serialize(message);
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt32BE(body.length, 0);
  return Buffer.concat([header, body]);
}

/** Splits a byte stream into messages; feed it chunks in order. */
export class FrameReader<T> {
  private pending: Buffer = Buffer.alloc(0);

  /**
   * Take a chunk and return the messages completed by it.
   * @throws Error when a frame header announces an impossible length (not a frame stream)
   */
  push(chunk: Buffer): T[] {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: T[] = [];
    while (this.pending.length >= HEADER_BYTES) {
      const length = this.pending.readUInt32BE(0);
      if (length > MAX_FRAME_BYTES) throw new TswrenError(ErrorCodes.PROTOCOL, `bad frame length ${length}: the stream is not a tswren docker channel`);
      if (this.pending.length < HEADER_BYTES + length) break;
      out.push(deserialize(this.pending.subarray(HEADER_BYTES, HEADER_BYTES + length)) as T);
      this.pending = this.pending.subarray(HEADER_BYTES + length);
    }
    return out;
  }
}
