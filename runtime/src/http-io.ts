/**
 * The small HTTP plumbing both servers (the action proxy and the Knative server) share: reading a
 * JSON body with a size limit, answering JSON, the listen address, and the readiness message.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { ErrorCodes, TswrenError } from "tswren/internal";

/** A request body that could not be read as JSON. */
export class BodyError extends Error {
  /** HTTP status to answer with (400 bad JSON, 413 too large). */
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.name = "BodyError";
    this.statusCode = statusCode;
  }
}

/**
 * Read and parse a JSON request body.
 * @param req - the request
 * @param limitBytes - largest body accepted
 * @returns the parsed value (`{}` for an empty body)
 * @throws BodyError 413 over the limit, 400 for invalid JSON
 */
export async function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) throw new BodyError(413, `the request body is larger than ${limitBytes} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BodyError(400, `the request body is not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/**
 * Answer with a JSON body.
 * @param res - the response
 * @param statusCode - HTTP status
 * @param body - the value to send as JSON
 */
export function sendJson(res: ServerResponse, statusCode: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(statusCode, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/** Where a server listens: `$PORT` (default 8080) on `$TSWREN_LISTEN_HOST` (default given). */
export function listenAddress(defaultHost: string): { host: string; port: number } {
  const port = Number.parseInt(process.env["PORT"] ?? "8080", 10);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TswrenError(ErrorCodes.CONFIG_BAD_VALUE, `PORT must be a port number, got ${process.env["PORT"]}`);
  return { host: process.env["TSWREN_LISTEN_HOST"] ?? defaultHost, port };
}

/**
 * Start listening; when the process has an IPC channel (started by a test or the emulator with
 * `fork`/`stdio: ["pipe", "pipe", "pipe", "ipc"]`), report `{ type: "listening", host, port }` on
 * it and exit when the parent goes away, so no server outlives its parent.
 * @param server - the server
 * @param address - host and port (0: any free port, reported in the message)
 * @returns once listening
 */
export async function listenAndAnnounce(server: Server, address: { host: string; port: number }): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(address.port, address.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address();
  const port = typeof bound === "object" && bound !== null ? bound.port : address.port;
  if (process.send !== undefined) {
    process.send({ type: "listening", host: address.host, port });
    process.on("disconnect", () => process.exit(0));
  }
}
