/**
 * The backend's hot path: a non-blocking invoke (`POST .../actions/{pkg}/{name}?blocking=false`)
 * as one plain `node:http(s)` request on the keep-alive agent the `openwhisk` client also uses.
 * The npm client (through needle) spends about 0.3 ms of CPU per request on stream pipelines,
 * abort signals and option merging, several times the cost of the request itself; everything
 * else (actions, activations, namespaces) still goes through it. Failures are shaped as the npm
 * client's errors (`statusCode`, the answer's body as `error`), so `classifyWhiskError` treats
 * both alike.
 */
import http from "node:http";
import https from "node:https";

/** Timeouts of one request, ms (the same as the npm client's `open_timeout` / `response_timeout`). */
export interface InvokeTimeouts {
  /** Connecting a new socket. */
  connectMs: number;
  /** The whole exchange, from sending to the end of the answer. */
  responseMs: number;
}

/** A failed invoke request, shaped as the `openwhisk` client's `OpenWhiskError`. */
export class WhiskRequestError extends Error {
  /**
   * @param message - what happened (never contains the credentials)
   * @param statusCode - the HTTP status, absent when no answer came (network failure)
   * @param error - the answer's body (`{ error: "..." }` on OpenWhisk)
   */
  constructor(message: string, readonly statusCode: number | undefined, readonly error: unknown) {
    super(message);
    this.name = "OpenWhiskError";
  }
}

/** Where and how a connection invokes. */
export interface InvokeTarget {
  /** `https://host[:port]` (no trailing slash). */
  endpoint: string;
  /** Namespace in the path (`_` = the key's own). */
  namespace: string;
  agent: http.Agent;
  /** The `Authorization` header value (Basic or a fresh Bearer token). */
  authorization(): string | Promise<string>;
  timeouts: InvokeTimeouts;
}

/** The invoke URL of an action (`pkg/name` or `name`), as the `openwhisk` client builds it. */
export function invokeUrl(target: Pick<InvokeTarget, "endpoint" | "namespace">, action: string): URL {
  const base = /^https?:\/\//.test(target.endpoint) ? target.endpoint : `https://${target.endpoint}`;
  return new URL(`${base}/api/v1/namespaces/${encodeURIComponent(target.namespace)}/actions/${action}?blocking=false`);
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function activationIdOf(body: unknown): string | undefined {
  const id = typeof body === "object" && body !== null ? (body as { activationId?: unknown }).activationId : undefined;
  return typeof id === "string" && id !== "" ? id : undefined;
}

/** The parts of an invoke URL a request needs (computed once per action). */
interface ActionUrl {
  protocol: string;
  hostname: string;
  port: string;
  host: string;
  /** Path and query. */
  path: string;
  /** For messages: origin and path, no query. */
  shown: string;
}

function actionUrl(url: URL): ActionUrl {
  const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
  return { protocol: url.protocol, hostname, port: url.port, host: url.host, path: `${url.pathname}${url.search}`, shown: `${url.origin}${url.pathname}` };
}

/**
 * POST `body` (JSON text) and resolve with the answer's status and parsed body.
 * @throws WhiskRequestError without `statusCode` when no answer came (refused, reset, timed out)
 */
function post(target: InvokeTarget, url: ActionUrl, authorization: string, body: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const headers = { "content-type": "application/json", "content-length": Buffer.byteLength(body), authorization, "user-agent": "tswren", "x-namespace-id": target.namespace };
    const options = { method: "POST", protocol: url.protocol, hostname: url.hostname, port: url.port, path: url.path, agent: target.agent, headers };
    const req = (url.protocol === "https:" ? https : http).request(options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => { resolve({ status: res.statusCode ?? 0, body: parseBody(Buffer.concat(chunks).toString("utf8")) }); });
      res.on("error", (err) => { reject(new WhiskRequestError(err.message, undefined, { error: err.message })); });
    });
    const fail = (message: string): void => { req.destroy(new WhiskRequestError(message, undefined, { error: message })); };
    req.setTimeout(target.timeouts.responseMs, () => { fail(`no answer from ${url.host} within ${target.timeouts.responseMs} ms`); });
    req.on("socket", (socket) => {
      if (!socket.connecting) return;
      const timer = setTimeout(() => { fail(`cannot connect to ${url.host} within ${target.timeouts.connectMs} ms`); }, target.timeouts.connectMs);
      socket.once("connect", () => { clearTimeout(timer); });
      socket.once("close", () => { clearTimeout(timer); });
    });
    req.on("error", (err) => { reject(err instanceof WhiskRequestError ? err : new WhiskRequestError(err.message, undefined, { error: err.message })); });
    req.end(body);
  });
}

/**
 * The invoke function of a connection: invoke an action (`pkg/name` or `name`) with its
 * parameters (a JSON object) without waiting for its result; resolves with the activation id
 * once the platform accepted it (202). Throws WhiskRequestError, with `statusCode` for an HTTP
 * error answer, without for a network failure.
 * @param target - endpoint, namespace, agent, credentials and timeouts
 */
export function nonBlockingInvoker(target: InvokeTarget): (action: string, params: object) => Promise<{ activationId: string }> {
  const urls = new Map<string, ActionUrl>();
  return async (action, params) => {
    let url = urls.get(action);
    if (url === undefined) {
      url = actionUrl(invokeUrl(target, action));
      urls.set(action, url);
    }
    return invokeOnce(target, url, params);
  };
}

async function invokeOnce(target: InvokeTarget, url: ActionUrl, params: object): Promise<{ activationId: string }> {
  const answer = await post(target, url, await target.authorization(), JSON.stringify(params));
  const activationId = activationIdOf(answer.body);
  if (answer.status >= 200 && answer.status < 300 && activationId !== undefined) return { activationId };
  const words = typeof answer.body === "object" && answer.body !== null && typeof (answer.body as { error?: unknown }).error === "string" ? (answer.body as { error: string }).error : http.STATUS_CODES[answer.status] ?? "no activation id in the answer";
  throw new WhiskRequestError(`POST ${url.shown} Returned HTTP ${answer.status} (${http.STATUS_CODES[answer.status] ?? "?"}) --> "${words}"`, answer.status, answer.body);
}
