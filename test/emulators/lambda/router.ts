/**
 * The Lambda router: one HTTP endpoint with AWS Lambda's API for the real `@aws-sdk/client-lambda`
 * (and `@aws-sdk/client-iam`). Invocations (`POST /2015-03-31/functions/{name}/invocations`) run
 * on pools of AWS Runtime Interface Emulators; every other request is moto's (see
 * `control-plane.ts`).
 *
 * Invoke semantics, as Lambda's:
 * - `X-Amz-Invocation-Type: Event`: 202, empty body, `x-amzn-RequestId`; the event waits in the
 *   function's queue for a free slot. Over 256 KB: 413 `RequestEntityTooLargeException`. Queue
 *   full: 429 `TooManyRequestsException`.
 * - `RequestResponse` (default): 200 with the result, `X-Amz-Function-Error: Unhandled` when the
 *   function failed or timed out; every slot busy: 429; over 6 MB: 413.
 * - `DryRun`: 204. A function moto does not know: moto's 404 `ResourceNotFoundException`.
 */
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ControlPlane, functionNameOf } from "./control-plane.js";
import { FunctionPool, type InvokeOutcome, type PoolOptions } from "./function-pool.js";

/** Lambda's payload limits, bytes. */
export const EVENT_LIMIT_BYTES = 256 * 1024;
export const SYNC_LIMIT_BYTES = 6 * 1024 * 1024;

/** An asynchronous invocation the router accepted, once it ended. */
export interface EventRecord {
  requestId: string;
  functionName: string;
  outcome: InvokeOutcome;
}

/** Counters of the router. */
export interface RouterStats {
  invocations: number;
  accepted: number;
  throttled: number;
  tooLarge: number;
  eventsDone: number;
  eventErrors: number;
}

/** Router options. */
export interface RouterOptions extends Omit<PoolOptions, "baseEnv"> {
  motoEndpoint: string;
  /** Region given to the runtimes (default us-east-1). */
  region?: string;
  /** Extra environment of every runtime. */
  env?: Record<string, string>;
}

const INVOKE_PATH = /^\/2015-03-31\/functions\/[^/]+\/invocations\/?$/;

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Lambda's error answer: `x-amzn-ErrorType` and a JSON body. */
function awsError(res: ServerResponse, status: number, type: string, message: string, extra: Record<string, string> = {}): void {
  const body = JSON.stringify({ Type: "User", message, ...extra });
  res.writeHead(status, { "content-type": "application/json", "x-amzn-errortype": type, "x-amzn-requestid": randomUUID(), "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** The router: pools per function version, the event log, and the HTTP handler. */
export class LambdaRouter {
  readonly stats: RouterStats = { invocations: 0, accepted: 0, throttled: 0, tooLarge: 0, eventsDone: 0, eventErrors: 0 };
  /** Emits `event` with an {@link EventRecord} whenever an asynchronous invocation ends. */
  readonly events = new EventEmitter();
  /** Ended asynchronous invocations by request id (the most recent 100 000). */
  readonly records = new Map<string, EventRecord>();
  readonly control: ControlPlane;
  private readonly pools = new Map<string, FunctionPool>();
  private server: Server | undefined;
  endpoint = "";
  /**
   * Benchmarks: accept `Event` invocations (202) without running them, to measure the client's
   * own rate (on Lambda the functions run elsewhere). Counted in `stats.accepted` only.
   */
  holdEvents = false;

  /** @param options - moto's endpoint, pool sizes, the RIE and bootstrap */
  constructor(private readonly options: RouterOptions) {
    this.control = new ControlPlane(options.motoEndpoint);
    this.control.onChange = (name) => this.replace(name);
    this.events.setMaxListeners(0);
  }

  /** Listen on 127.0.0.1 (a free port). */
  async listen(): Promise<void> {
    const server = createServer((req, res) => {
      this.route(req, res).catch((err: unknown) => {
        if (!res.headersSent) awsError(res, 500, "ServiceException", err instanceof Error ? err.message : String(err));
        else res.destroy();
      });
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    this.server = server;
    this.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Invocations running or queued, over all functions. */
  get busy(): number {
    let n = 0;
    for (const p of this.pools.values()) n += p.busy;
    return n;
  }

  /** Stop the server and every RIE. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    await Promise.all([...this.pools.values()].map((p) => p.stop()));
    this.pools.clear();
    this.control.close();
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? "/";
    if (req.method === "POST" && INVOKE_PATH.test(url.split("?")[0] ?? "")) await this.invoke(req, res);
    else await this.control.forward(req, res);
  }

  private replace(name: string): void {
    const pool = this.pools.get(name);
    this.pools.delete(name);
    pool?.retire();
  }

  private async poolFor(req: IncomingMessage, res: ServerResponse, name: string): Promise<FunctionPool | undefined> {
    const found = await this.control.lookup(name, req.headers.authorization);
    if (!found.ok) {
      res.writeHead(found.status, { ...found.headers, "content-length": Buffer.byteLength(found.body) });
      res.end(found.body);
      return undefined;
    }
    const v = found.version;
    const current = this.pools.get(name);
    if (current !== undefined && current.version.codeSha256 === v.codeSha256) return current;
    const dir = this.control.codeDir(v.codeSha256);
    if (dir === undefined) {
      awsError(res, 500, "ServiceException", `the router has no code for ${name} (CodeSha256 ${v.codeSha256}): it was uploaded before the router started`);
      return undefined;
    }
    const region = this.options.region ?? "us-east-1";
    const baseEnv = { AWS_REGION: region, AWS_DEFAULT_REGION: region, AWS_ACCESS_KEY_ID: "tswren-router", AWS_SECRET_ACCESS_KEY: "tswren-router", AWS_ENDPOINT_URL_LAMBDA: this.endpoint, ...this.options.env };
    const pool = new FunctionPool(v, dir, { ...this.options, baseEnv });
    current?.retire();
    this.pools.set(name, pool);
    return pool;
  }

  private async invoke(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.invocations++;
    const body = await readBody(req);
    const name = functionNameOf(req.url ?? "") ?? "";
    const type = String(req.headers["x-amz-invocation-type"] ?? "RequestResponse");
    const limit = type === "Event" ? EVENT_LIMIT_BYTES : SYNC_LIMIT_BYTES;
    if (body.length > limit) {
      this.stats.tooLarge++;
      awsError(res, 413, "RequestEntityTooLargeException", `Request must be smaller than ${limit} bytes for the ${type === "Event" ? "Event" : "RequestResponse"} invocation type`);
      return;
    }
    const pool = await this.poolFor(req, res, name);
    if (pool === undefined) return;
    if (type === "DryRun") {
      res.writeHead(204, { "x-amzn-requestid": randomUUID() }).end();
      return;
    }
    const requestId = randomUUID();
    if (type === "Event") this.invokeEvent(res, pool, name, requestId, body);
    else await this.invokeSync(res, pool, requestId, body);
  }

  private invokeEvent(res: ServerResponse, pool: FunctionPool, name: string, requestId: string, body: Buffer): void {
    if (this.holdEvents) {
      this.stats.accepted++;
      res.writeHead(202, { "x-amzn-requestid": requestId, "content-length": 0 }).end();
      return;
    }
    const queued = pool.enqueue(requestId, body, (outcome) => {
      this.stats.eventsDone++;
      if (outcome.functionError !== undefined) this.stats.eventErrors++;
      const record = { requestId, functionName: name, outcome };
      this.records.set(requestId, record);
      if (this.records.size > 100_000) this.records.delete(this.records.keys().next().value ?? "");
      this.events.emit("event", record);
    });
    if (!queued) {
      this.stats.throttled++;
      awsError(res, 429, "TooManyRequestsException", "Rate Exceeded.", { Reason: "ReservedFunctionConcurrentInvocationLimitExceeded" });
      return;
    }
    this.stats.accepted++;
    res.writeHead(202, { "x-amzn-requestid": requestId, "content-length": 0 }).end();
  }

  private async invokeSync(res: ServerResponse, pool: FunctionPool, requestId: string, body: Buffer): Promise<void> {
    const running = pool.tryInvoke(requestId, body);
    if (running === null) {
      this.stats.throttled++;
      awsError(res, 429, "TooManyRequestsException", "Rate Exceeded.", { Reason: "ReservedFunctionConcurrentInvocationLimitExceeded" });
      return;
    }
    this.stats.accepted++;
    const outcome = await running;
    const headers: Record<string, string | number> = { "content-type": "application/json", "x-amzn-requestid": requestId, "x-amz-executed-version": "$LATEST", "content-length": Buffer.byteLength(outcome.payload) };
    if (outcome.functionError !== undefined) headers["x-amz-function-error"] = outcome.functionError;
    res.writeHead(200, headers).end(outcome.payload);
  }
}
