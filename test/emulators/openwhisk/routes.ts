/**
 * The emulator's REST routes under `/api/v1`: authentication (Basic `base64(uuid:key)`, or a
 * Bearer token when one is configured), namespaces, packages, actions (invoke is in
 * `invoke-route.ts`) and activations, answering with OpenWhisk's statuses and bodies.
 */
import { timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ActionPath } from "./action-store.js";
import type { ActivationQuery } from "./activations.js";
import type { EmulatorState } from "./emulator-state.js";
import { HttpError, parseObject, readBody, sendError, sendJson } from "./http-json.js";
import { invokeAction } from "./invoke-route.js";
import { MESSAGES } from "./limits.js";

/** A parsed request: method, path segments after `/api/v1/namespaces/{ns}/`, query. */
interface Route {
  method: string;
  /** Segments after the collection name. */
  rest: string[];
  /** The path ended with `/` (`actions/pkg/` lists a package's actions). */
  trailingSlash: boolean;
  query: URLSearchParams;
}

const LIST_LIMIT_DEFAULT = 30;
const LIST_LIMIT_MAX = 200;

/**
 * Serve one request; errors become OpenWhisk error bodies.
 * @param state - the emulator
 * @param req - the request
 * @param res - the response
 * @returns when answered
 */
export async function handleRequest(state: EmulatorState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  state.stats.requests++;
  try {
    await dispatch(state, req, res);
  } catch (err) {
    if (res.headersSent || req.socket.destroyed) return;
    if (!req.complete) req.resume(); // drain the unread body so the client reads the answer
    if (err instanceof HttpError) sendError(res, err.status, err.message);
    else sendError(res, 500, `emulator error: ${err instanceof Error ? err.message : String(err)}`);
  }
}

async function dispatch(state: EmulatorState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://emulator");
  const segments = url.pathname.split("/").filter((s) => s !== "").map(decodeURIComponent);
  if (segments[0] !== "api" || segments[1] !== "v1") throw new HttpError(404, MESSAGES.notFound);
  if (segments.length === 2) {
    sendJson(res, 200, { api_paths: ["/api/v1"], description: "tswren OpenWhisk REST emulator" });
    return;
  }
  if (!authenticated(state, req.headers.authorization)) {
    state.stats.unauthorized++;
    await readBody(req, 0); // drain, so the client reads the answer
    throw new HttpError(401, MESSAGES.unauthenticated);
  }
  if (segments[2] !== "namespaces") throw new HttpError(404, MESSAGES.notFound);
  if (segments.length === 3) {
    sendJson(res, 200, [state.options.namespace]);
    return;
  }
  const namespace = segments[3];
  if (namespace !== "_" && namespace !== state.options.namespace) throw new HttpError(403, MESSAGES.forbidden);
  const route: Route = {
    method: req.method ?? "GET",
    rest: segments.slice(5),
    trailingSlash: url.pathname.endsWith("/"),
    query: url.searchParams,
  };
  switch (segments[4]) {
    case "actions":
      return actionRoutes(state, req, res, route);
    case "packages":
      return packageRoutes(state, req, res, route);
    case "activations":
      return activationRoutes(state, res, route);
    default:
      throw new HttpError(404, MESSAGES.notFound);
  }
}

function authenticated(state: EmulatorState, header: string | undefined): boolean {
  if (header === undefined) return false;
  const [scheme = "", token = ""] = header.split(" ", 2);
  if (scheme.toLowerCase() === "basic") {
    return sameText(Buffer.from(token, "base64").toString("utf8"), state.options.apiKey);
  }
  const bearer = state.options.bearerToken;
  return scheme.toLowerCase() === "bearer" && bearer !== undefined && sameText(token, bearer);
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

async function actionRoutes(state: EmulatorState, req: IncomingMessage, res: ServerResponse, route: Route): Promise<void> {
  const { method, rest, query } = route;
  if (rest.length === 0 || (rest.length === 1 && route.trailingSlash && method === "GET")) {
    if (method !== "GET") throw new HttpError(405, "The request method is not allowed on this resource.");
    if (query.get("count") === "true") {
      sendJson(res, 200, { actions: state.store.listActions(rest[0], { limit: Infinity, skip: 0 }).length });
      return;
    }
    sendJson(res, 200, state.store.listActions(rest[0], listWindow(query, "actions")));
    return;
  }
  if (rest.length > 2) throw new HttpError(404, MESSAGES.notFound);
  const path: ActionPath = rest.length === 2 ? { pkg: rest[0], name: rest[1] } : { name: rest[0] };
  switch (method) {
    case "GET":
      sendJson(res, 200, state.store.getAction(path, query.get("code") !== "false"));
      return;
    case "PUT": {
      const body = await jsonBody(state, req);
      const doc = state.store.putAction(path, body, query.get("overwrite") === "true");
      sendJson(res, 200, doc);
      return;
    }
    case "DELETE":
      sendJson(res, 200, state.store.deleteAction(path));
      return;
    case "POST":
      return invokeAction(state, req, res, path, {
        blocking: query.get("blocking") === "true",
        resultOnly: query.get("result") === "true",
      });
    default:
      throw new HttpError(405, "The request method is not allowed on this resource.");
  }
}

async function packageRoutes(state: EmulatorState, req: IncomingMessage, res: ServerResponse, route: Route): Promise<void> {
  const { method, rest, query } = route;
  if (rest.length === 0) {
    if (method !== "GET") throw new HttpError(405, "The request method is not allowed on this resource.");
    sendJson(res, 200, state.store.listPackages(listWindow(query, "packages")));
    return;
  }
  if (rest.length > 1) throw new HttpError(404, MESSAGES.notFound);
  const name = rest[0];
  switch (method) {
    case "GET":
      sendJson(res, 200, state.store.getPackage(name));
      return;
    case "PUT":
      sendJson(res, 200, state.store.putPackage(name, await jsonBody(state, req), query.get("overwrite") === "true"));
      return;
    case "DELETE":
      sendJson(res, 200, state.store.deletePackage(name));
      return;
    default:
      throw new HttpError(405, "The request method is not allowed on this resource.");
  }
}

function activationRoutes(state: EmulatorState, res: ServerResponse, route: Route): void {
  const { method, rest, query } = route;
  if (method !== "GET") throw new HttpError(405, "The request method is not allowed on this resource.");
  if (rest.length === 0) {
    const filter = activationQuery(query);
    if (query.get("count") === "true") sendJson(res, 200, { activations: state.activations.count(filter) });
    else sendJson(res, 200, state.activations.list(filter));
    return;
  }
  const record = state.activations.get(rest[0]);
  if (record === undefined || rest.length > 2) throw new HttpError(404, MESSAGES.notFound);
  switch (rest[1]) {
    case undefined:
      sendJson(res, 200, record);
      return;
    case "result":
      sendJson(res, 200, record.response);
      return;
    case "logs":
      sendJson(res, 200, { logs: record.logs });
      return;
    default:
      throw new HttpError(404, MESSAGES.notFound);
  }
}

async function jsonBody(state: EmulatorState, req: IncomingMessage): Promise<Record<string, unknown>> {
  const limit = state.options.maxCodeBytes + 1024 * 1024;
  const body = await readBody(req, limit);
  if (body.tooLarge) {
    state.stats.payloadTooLarge++;
    throw new HttpError(413, MESSAGES.tooBig("Request", body.bytes, limit));
  }
  const parsed = parseObject(body.text);
  if (parsed === undefined) throw new HttpError(400, "The request content was malformed:\nthe body must be a JSON object.");
  return parsed;
}

function listWindow(query: URLSearchParams, collection: string): { limit: number; skip: number } {
  const limit = integerParam(query, "limit", collection) ?? LIST_LIMIT_DEFAULT;
  const skip = integerParam(query, "skip", collection) ?? 0;
  if (limit < 0 || limit > LIST_LIMIT_MAX) {
    throw new HttpError(400, `The value '${limit}' is not in the range of 0 to ${LIST_LIMIT_MAX} for ${collection}.`);
  }
  if (skip < 0) throw new HttpError(400, `The value '${skip}' is not greater than or equal to 0 for ${collection}.`);
  return { limit: limit === 0 ? LIST_LIMIT_MAX : limit, skip };
}

function activationQuery(query: URLSearchParams): ActivationQuery {
  const since = integerParam(query, "since", "activations");
  const upto = integerParam(query, "upto", "activations");
  const name = query.get("name");
  return {
    ...listWindow(query, "activations"),
    docs: query.get("docs") === "true",
    ...(name === null ? {} : { name }),
    ...(since === undefined ? {} : { since }),
    ...(upto === undefined ? {} : { upto }),
  };
}

function integerParam(query: URLSearchParams, key: string, collection: string): number | undefined {
  const text = query.get(key);
  if (text === null) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value)) throw new HttpError(400, `The value '${text}' is not an integer for ${collection}.`);
  return value;
}
