/**
 * HTTP plumbing for the OpenWhisk emulator: bounded body reading, JSON replies and OpenWhisk's
 * error body `{error, code}` (the code is a transaction id).
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** A request body read with a size limit. */
export interface BoundedBody {
  /** The body, or empty when it was over the limit. */
  text: string;
  /** The full body size in bytes, counted even past the limit. */
  bytes: number;
  /** True when `bytes` exceeded the limit (the rest was drained, not kept). */
  tooLarge: boolean;
}

/** A fresh 32-hex-digit id, the form of OpenWhisk's activation and transaction ids. */
export function newId(): string {
  return randomUUID().replaceAll("-", ""); // randomUUID draws from a cached pool: cheap per request
}

/**
 * Read a request body, keeping at most `limitBytes` (the rest is drained so the client can read
 * the answer).
 * @param req - the request
 * @param limitBytes - bytes to keep
 * @returns the body and its size
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<BoundedBody> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on("data", (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes <= limitBytes) chunks.push(chunk);
    });
    req.on("end", () => {
      const tooLarge = bytes > limitBytes;
      resolve({ text: tooLarge ? "" : Buffer.concat(chunks).toString("utf8"), bytes, tooLarge });
    });
    req.on("error", reject);
  });
}

/**
 * Parse a JSON object body; an empty body is `{}`.
 * @param text - the body
 * @returns the object, or undefined when the body is not a JSON object
 */
export function parseObject(text: string): Record<string, unknown> | undefined {
  if (text.trim() === "") return {};
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * True for a plain JSON object (not null, not an array).
 * @param value - anything
 * @returns whether it is an object
 */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Send a JSON reply.
 * @param res - the response
 * @param status - HTTP status
 * @param body - serialized with JSON.stringify
 * @param headers - extra headers
 */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/**
 * Send OpenWhisk's error body `{error, code}`.
 * @param res - the response
 * @param status - HTTP status
 * @param message - the `error` text
 */
export function sendError(res: ServerResponse, status: number, message: string): void {
  sendJson(res, status, { error: message, code: newId() });
}

/** An error that a route turns into an OpenWhisk error reply. */
export class HttpError extends Error {
  /**
   * @param status - HTTP status of the reply
   * @param message - the `error` text
   */
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}
