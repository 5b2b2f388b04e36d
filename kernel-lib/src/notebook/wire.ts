/**
 * The Jupyter wire protocol (messaging 5.3): framing and HMAC-SHA256 signing of messages on
 * ZeroMQ sockets. Used by the kernel for the requests it answers itself and by clients (tests).
 */
import { createHmac, randomUUID } from "node:crypto";
import { ErrorCodes, TswrenError } from "../errors.js";

/** Protocol version tswren speaks. */
export const PROTOCOL_VERSION = "5.3";

const DELIMITER = "<IDS|MSG>";

/** A Jupyter message header. */
export interface MessageHeader {
  msg_id: string;
  msg_type: string;
  session: string;
  username: string;
  date: string;
  version: string;
}

/** A decoded Jupyter message. */
export interface JupyterMessage {
  /** ZeroMQ routing identities (ROUTER sockets); empty elsewhere. */
  identities: Buffer[];
  header: MessageHeader;
  /** Header of the request this message answers, or `{}`. */
  parent_header: Partial<MessageHeader>;
  metadata: Record<string, unknown>;
  content: Record<string, unknown>;
}

/** A new header of type `msgType` in `session`. */
export function newHeader(msgType: string, session: string, username = "tswren"): MessageHeader {
  return { msg_id: randomUUID(), msg_type: msgType, session, username, date: new Date().toISOString(), version: PROTOCOL_VERSION };
}

function sign(key: string, parts: readonly string[]): string {
  if (key === "") return "";
  const hmac = createHmac("sha256", key);
  for (const p of parts) hmac.update(p);
  return hmac.digest("hex");
}

/** Frames of a signed message, ready for `socket.send`. */
export function encodeMessage(key: string, msg: Omit<JupyterMessage, "identities"> & { identities?: Buffer[] }): Array<Buffer | string> {
  const parts = [JSON.stringify(msg.header), JSON.stringify(msg.parent_header), JSON.stringify(msg.metadata), JSON.stringify(msg.content)];
  return [...(msg.identities ?? []), DELIMITER, sign(key, parts), ...parts];
}

/**
 * Decode and verify received frames.
 * @throws TswrenError `TSWREN_PROTOCOL` when the delimiter is missing or the signature does not match
 */
export function decodeMessage(key: string, frames: readonly Buffer[]): JupyterMessage {
  const at = frames.findIndex((f) => f.toString() === DELIMITER);
  if (at < 0 || frames.length < at + 6) throw new TswrenError(ErrorCodes.PROTOCOL, "not a Jupyter message: missing <IDS|MSG> delimiter or parts");
  const parts = frames.slice(at + 2, at + 6).map((f) => f.toString("utf8"));
  const signature = (frames[at + 1]).toString();
  if (signature !== sign(key, parts)) throw new TswrenError(ErrorCodes.PROTOCOL, "Jupyter message with a bad HMAC signature");
  const [header, parent, metadata, content] = parts.map((p) => JSON.parse(p) as unknown);
  return {
    identities: frames.slice(0, at),
    header: header as MessageHeader,
    parent_header: parent as Partial<MessageHeader>,
    metadata: metadata as Record<string, unknown>,
    content: content as Record<string, unknown>,
  };
}

/** A reply (or IOPub message) of type `msgType` to `request`, routed back to its sender. */
export function replyTo(request: JupyterMessage, msgType: string, content: Record<string, unknown>, routed = true): JupyterMessage {
  return {
    identities: routed ? request.identities : [],
    header: newHeader(msgType, request.header.session, request.header.username),
    parent_header: request.header,
    metadata: {},
    content,
  };
}
