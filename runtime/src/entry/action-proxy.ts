/**
 * An OpenWhisk action proxy ("action container") for Node actions, with the contract of the
 * Apache Node.js runtime:
 *
 * - listens on `$TSWREN_LISTEN_HOST` (default `127.0.0.1`; `0.0.0.0` in a container image) port
 *   `$PORT` (default 8080);
 * - `POST /init` once with `{ value: { name, main, code, binary, env } }` → 200 `{ ok: true }`;
 *   `env` entries become environment variables. A second `/init` → 403 `{ error: "Cannot
 *   initialize the action more than once." }`; no code → 403; code that cannot be loaded → 502;
 * - `POST /run` with `{ value, namespace, action_name, activation_id, transaction_id, api_key,
 *   deadline }`: every top-level key but `value` is exported as `__OW_<KEY>` (upper case) for the
 *   run, then `main(value)` is called. A JSON object → 200 with it (with `error`: an application
 *   error, as is a rejected promise → 200 `{ error }`); a synchronous throw or a non-object → 502
 *   `{ error }` (developer error: the
 *   proxy then refuses further runs, and the platform discards the container). `/run` before a
 *   successful `/init` → 403;
 * - after each run, `XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX` on its own line on stdout and stderr;
 * - runs never overlap: a `/run` that arrives during another waits for it.
 *
 * When started with an IPC channel it reports `{ type: "listening", host, port }` there and exits
 * with its parent. The OpenWhisk emulator starts this file as each container; it also serves as
 * the entry of a blackbox (docker) action image.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { InitError, loadAction, type ActionMain, type InitValue } from "../action-loader.js";
import { BodyError, listenAddress, listenAndAnnounce, readJsonBody, sendJson } from "../http-io.js";

/** The line written to stdout and stderr after each activation. */
export const ACTIVATION_END_MARKER = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX";

/** Largest `/init` or `/run` body: OpenWhisk's code limit (48 MB) in base64, with room. */
const BODY_LIMIT_BYTES = 80 * 1024 * 1024;

type ProxyState = "starting" | "initializing" | "ready" | "stopped";

let state: ProxyState = "starting";
let actionMain: ActionMain | null = null;
/** Runs in arrival order, one at a time. */
let runQueue: Promise<void> = Promise.resolve();

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function writeMarkers(): void {
  process.stdout.write(`${ACTIVATION_END_MARKER}\n`);
  process.stderr.write(`${ACTIVATION_END_MARKER}\n`);
}

function handleInit(body: unknown): { statusCode: number; body: unknown } {
  if (state !== "starting") return { statusCode: 403, body: { error: "Cannot initialize the action more than once." } };
  const value = isObject(body) && isObject(body["value"]) ? (body["value"] as InitValue) : {};
  state = "initializing";
  try {
    for (const [name, v] of Object.entries(isObject(value.env) ? value.env : {})) {
      if (typeof v === "string") process.env[name] = v;
    }
    actionMain = loadAction(value);
    state = "ready";
    return { statusCode: 200, body: { ok: true } };
  } catch (err) {
    // Apache's proxy accepts a new /init after one without code, and is done after a failed load.
    state = err instanceof InitError && err.statusCode === 403 ? "starting" : "stopped";
    const statusCode = err instanceof InitError ? err.statusCode : 502;
    return { statusCode, body: { error: err instanceof Error ? err.message : String(err) } };
  }
}

/** Export the activation's per-run keys as `__OW_*` environment variables. */
function exportActivationEnv(body: Record<string, unknown>): void {
  for (const [key, v] of Object.entries(body)) {
    if (key === "value") continue;
    if (typeof v === "string" || typeof v === "number" || typeof v === "boolean") process.env[`__OW_${key.toUpperCase()}`] = String(v);
  }
}

/** A synchronous throw from `main`: a developer error, as in the Apache runtime. */
class SyncThrow extends Error {
  constructor(readonly inner: unknown) {
    super("main threw");
  }
}

async function runActivation(body: unknown): Promise<{ statusCode: number; body: unknown }> {
  if (state !== "ready" || actionMain === null) return { statusCode: 403, body: { error: `System not ready, status is ${state}.` } };
  const msg = isObject(body) ? body : {};
  exportActivationEnv(msg);
  try {
    let pending: unknown;
    try {
      pending = actionMain(msg["value"] ?? {});
    } catch (err) {
      throw new SyncThrow(err);
    }
    // Like the Apache Node.js runtime: a rejected promise is an application error (200 {error}).
    const result: unknown = await Promise.resolve(pending).catch((err: unknown) => ({ error: err instanceof Error ? { name: err.name, message: err.message, stack: err.stack } : String(err) }));
    if (!isObject(result)) {
      state = "stopped";
      process.stderr.write(`Result must be of type object but has type "${Array.isArray(result) ? "array" : typeof result}"\n`);
      return { statusCode: 502, body: { error: "The action did not return a dictionary." } };
    }
    return { statusCode: 200, body: result };
  } catch (thrown) {
    const err = thrown instanceof SyncThrow ? thrown.inner : thrown;
    state = "stopped";
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return { statusCode: 502, body: { error: `An error has occurred: ${err instanceof Error ? err.message : String(err)}` } };
  } finally {
    writeMarkers();
  }
}

/** Queue a run behind the ones already waiting. */
function enqueueRun(body: unknown): Promise<{ statusCode: number; body: unknown }> {
  const run = runQueue.then(() => runActivation(body));
  runQueue = run.then(
    () => undefined,
    () => undefined,
  );
  return run;
}

async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url?.split("?")[0];
  if (req.method !== "POST" || (url !== "/init" && url !== "/run")) {
    sendJson(res, 404, { error: `no route ${req.method ?? "?"} ${url ?? "?"}: the action proxy serves POST /init and POST /run` });
    return;
  }
  let body: unknown;
  try {
    body = await readJsonBody(req, BODY_LIMIT_BYTES);
  } catch (err) {
    sendJson(res, err instanceof BodyError ? err.statusCode : 400, { error: err instanceof Error ? err.message : String(err) });
    return;
  }
  const answer = url === "/init" ? handleInit(body) : await enqueueRun(body);
  sendJson(res, answer.statusCode, answer.body);
}

const server = createServer((req, res) => {
  route(req, res).catch((err: unknown) => {
    if (!res.headersSent) sendJson(res, 500, { error: `action proxy: ${err instanceof Error ? err.message : String(err)}` });
    else res.destroy();
  });
});
server.keepAliveTimeout = 60_000;
await listenAndAnnounce(server, listenAddress("127.0.0.1"));
// On SIGTERM: refuse new connections, let a run in progress answer, then exit.
process.once("SIGTERM", () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
