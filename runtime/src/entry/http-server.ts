/**
 * The runtime as a plain HTTP/1.1 server, for Knative Serving, IBM Code Engine apps and Cloud
 * Run: listens on `$TSWREN_LISTEN_HOST` (default `127.0.0.1`: Knative's queue-proxy reaches the
 * user container on localhost) port `$PORT` (default 8080). Binding another address is explicit
 * (`TSWREN_LISTEN_HOST=0.0.0.0`) and prints a warning when no signing key is set.
 *
 * Every `POST /` must be a signed request (`SignedRequest` from kernel-lib/src/security): the
 * signature is checked (constant time) against `$TSWREN_SIGNING_KEY` (and
 * `$TSWREN_SIGNING_KEY_PREVIOUS` during a rotation) before anything is read or written; an
 * unsigned, forged, expired or wrongly keyed request → 401 `{ error }`, a payload naming storage
 * outside the deployment's allowed storage → 403 (see `request-checks.ts`).
 *
 * - `POST /` with an `InvocationPayloadJson`: runs its calls one after another (each writes
 *   its `status.json`, and its `start` key when the payload sets `startMarkers`) and answers 200
 *   `{ tswrenVersion, nodeVersion, statuses: CallStatusJson[] }` in call order, so the client can
 *   resolve futures from the response alone. Not a payload → 400 `{ error }`; another tswren
 *   version → 409 `{ error }` naming both versions and `tswren runtime deploy`; body over 64 MiB
 *   → 413.
 * - `GET /` → 200 `{ ok: true }` (health); `GET /metadata` → 200 `{ tswrenVersion, nodeVersion,
 *   runtime: "tswren-knative" }`.
 * - `$TSWREN_CONCURRENCY` (default 1) payloads run at once; more wait in arrival order. Calls
 *   running at once share the process: their logs may interleave, and `extraEnv` is process-wide.
 * - SIGTERM (scale-down): stop accepting connections, finish the requests in flight and queued,
 *   then exit 0.
 *
 * Faults stay with their call: an uncaught exception or unhandled rejection of a call's code fails
 * that call with its own error; one raised later by a timer or promise a call left behind is
 * logged against that call on stderr and fails no other call (`fault-guard.ts`).
 *
 * Calls' logs also go to stdout/stderr (the platform's logs). When started with an IPC channel it
 * reports `{ type: "listening", host, port }` there and exits with its parent.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { hostname } from "node:os";
import { encodeStatus, ErrorCodes, TswrenError } from "tswren/internal";
import { BodyError, listenAddress, listenAndAnnounce, readJsonBody, sendJson } from "../http-io.js";
import { installFaultGuard } from "../fault-guard.js";
import { readSignedPayload, runPayload, runtimeInfo } from "../invocation.js";

const BODY_LIMIT_BYTES = 64 * 1024 * 1024;

/** Limits how many payloads run at once; the others wait in arrival order. */
class Gate {
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.running--;
    }
  }
}

function concurrencyFromEnv(): number {
  const raw = process.env["TSWREN_CONCURRENCY"];
  const n = raw === undefined || raw === "" ? 1 : Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new TswrenError(ErrorCodes.CONFIG_BAD_VALUE, `TSWREN_CONCURRENCY must be a positive integer, got ${raw}`);
  return n;
}

const gate = new Gate(concurrencyFromEnv());
/** Set on SIGTERM: answers then close their connection, so the server can finish closing. */
let stopping = false;

function closeWhenStopping(res: ServerResponse): void {
  if (stopping) res.setHeader("connection", "close");
}

function answer(res: ServerResponse, statusCode: number, body: unknown): void {
  closeWhenStopping(res);
  sendJson(res, statusCode, body);
}

const workerPrefix = `knative-${process.env["K_REVISION"] ?? hostname()}-${process.pid}`;
let requests = 0;

async function invoke(req: IncomingMessage, res: ServerResponse): Promise<void> {
  let body: unknown;
  try {
    body = await readJsonBody(req, BODY_LIMIT_BYTES);
  } catch (err) {
    answer(res, err instanceof BodyError ? err.statusCode : 400, { error: err instanceof Error ? err.message : String(err) });
    return;
  }
  const read = readSignedPayload(body);
  if (!read.ok) {
    answer(res, read.statusCode, { error: read.error });
    return;
  }
  const workerId = `${workerPrefix}-${requests++}`;
  const statuses = await gate.run(() => runPayload(read.payload, { workerId, passThroughLogs: true, endAtTimeout: true }));
  // Statuses in their JSON form (`CallStatusJson`: inline results as base64), as in status.json.
  const info = JSON.stringify(runtimeInfo()).slice(0, -1);
  const text = `${info},"statuses":[${statuses.map(encodeStatus).join(",")}]}`;
  closeWhenStopping(res);
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url?.split("?")[0];
  if (req.method === "POST" && url === "/") await invoke(req, res);
  else if (req.method === "GET" && url === "/") answer(res, 200, { ok: true });
  else if (req.method === "GET" && url === "/metadata") answer(res, 200, { ...runtimeInfo(), runtime: "tswren-knative" });
  else answer(res, 404, { error: `no route ${req.method ?? "?"} ${url ?? "?"}: this tswren runtime serves POST /, GET / and GET /metadata` });
}

const server = createServer((req, res) => {
  route(req, res).catch((err: unknown) => {
    if (!res.headersSent) answer(res, 500, { error: `tswren runtime: ${err instanceof Error ? err.message : String(err)}` });
    else res.destroy();
  });
});
// An uncaught error of a call's code fails that call; one from what a call left behind is logged
// against it (stderr: the platform's logs) and never fails another request's call.
installFaultGuard();
const address = listenAddress("127.0.0.1");
if (!["127.0.0.1", "::1", "localhost"].includes(address.host) && (process.env["TSWREN_SIGNING_KEY"] ?? "") === "") {
  process.stderr.write(
    `tswren runtime: WARNING: listening on ${address.host} without a signing key: every request will be refused (401) until TSWREN_SIGNING_KEY is set; deploy with \`tswren runtime deploy\` (see docs/security.md)\n`,
  );
}
await listenAndAnnounce(server, address);
process.once("SIGTERM", () => {
  stopping = true;
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
