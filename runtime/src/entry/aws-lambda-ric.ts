/**
 * A small client of the AWS Lambda Runtime API: what AWS's Node.js runtime interface client does
 * for a managed `nodejs20.x` function, written for tswren because AWS's npm client
 * (`aws-lambda-ric`) needs Node >= 22 and compiles native code at install.
 *
 * Started as the runtime's bootstrap (the AWS Runtime Interface Emulator runs it; on Lambda the
 * managed runtime plays this part), with `AWS_LAMBDA_RUNTIME_API=host:port`, `_HANDLER=file.export`
 * and the task root as `LAMBDA_TASK_ROOT` (or the working directory). It loads the handler, then
 * loops: `GET /2018-06-01/runtime/invocation/next`, call `handler(event, context)`, and `POST` the
 * result to `.../invocation/{id}/response` or the error to `.../invocation/{id}/error`. A handler
 * that cannot be loaded is reported to `POST /2018-06-01/runtime/init/error` and the process
 * exits 1 (Lambda then fails the invocation with the init error).
 */
import { Agent, request } from "node:http";
import { existsSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ErrorCodes, TswrenError } from "tswren/errors";

/** The `context` object a Lambda handler receives (the fields tswren's handler uses, and more). */
export interface LambdaContext {
  awsRequestId: string;
  invokedFunctionArn: string;
  functionName: string;
  functionVersion: string;
  memoryLimitInMB: string;
  logGroupName: string;
  logStreamName: string;
  /** Milliseconds left before Lambda stops the invocation. */
  getRemainingTimeInMillis(): number;
}

/** A Lambda handler: `(event, context) => result`. */
export type LambdaHandler = (event: unknown, context: LambdaContext) => unknown;

/** Error body of the Runtime API (`{ errorType, errorMessage, trace }`). */
export interface RuntimeErrorBody {
  errorType: string;
  errorMessage: string;
  trace: string[];
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const PREFIX = "/2018-06-01/runtime";

/** One request to the Runtime API; resolves with the status, headers and body text. */
function call(method: "GET" | "POST", route: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  const api = process.env["AWS_LAMBDA_RUNTIME_API"] ?? "127.0.0.1:9001";
  const [host, port] = api.split(":");
  return new Promise((resolve, reject) => {
    const req = request({ agent, host, port: Number(port ?? 80), method, path: `${PREFIX}${route}`, headers: body !== undefined ? { "content-type": "application/json", ...headers } : headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => {
        chunks.push(c);
      });
      res.on("end", () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }); });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** The Runtime API's body for a thrown value. */
export function errorBody(err: unknown): RuntimeErrorBody {
  if (err instanceof Error) return { errorType: err.name, errorMessage: err.message, trace: (err.stack ?? "").split("\n") };
  return { errorType: "NonErrorThrown", errorMessage: String(err), trace: [] };
}

/** Load `file.export` named by `_HANDLER` from the task root. */
async function loadHandler(): Promise<LambdaHandler> {
  const spec = process.env["_HANDLER"] ?? "index.handler";
  const root = process.env["LAMBDA_TASK_ROOT"] ?? process.cwd();
  const dot = spec.lastIndexOf(".");
  if (dot <= 0) throw new TswrenError(ErrorCodes.RUNTIME_MISSING, `_HANDLER "${spec}" is not of the form file.export`);
  const base = path.join(root, spec.slice(0, dot));
  const file = [".mjs", ".js", ".cjs"].map((ext) => base + ext).find((f) => existsSync(f));
  if (file === undefined) throw new TswrenError(ErrorCodes.RUNTIME_MISSING, `Cannot find module '${spec.slice(0, dot)}' in ${root} (tried .mjs, .js, .cjs)`);
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown> & { default?: Record<string, unknown> };
  const name = spec.slice(dot + 1);
  const fn = mod[name] ?? mod.default?.[name];
  if (typeof fn !== "function") throw new TswrenError(ErrorCodes.RUNTIME_MISSING, `${spec} is undefined or not exported`);
  return fn as LambdaHandler;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string {
  const v = headers[name];
  return Array.isArray(v) ? (v[0] ?? "") : (v ?? "");
}

function contextOf(headers: Record<string, string | string[] | undefined>): LambdaContext {
  const deadlineMs = Number(header(headers, "lambda-runtime-deadline-ms"));
  const functionName = process.env["AWS_LAMBDA_FUNCTION_NAME"] ?? "function";
  return {
    awsRequestId: header(headers, "lambda-runtime-aws-request-id"),
    invokedFunctionArn: header(headers, "lambda-runtime-invoked-function-arn"),
    functionName,
    functionVersion: process.env["AWS_LAMBDA_FUNCTION_VERSION"] ?? "$LATEST",
    memoryLimitInMB: process.env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] ?? "128",
    logGroupName: process.env["AWS_LAMBDA_LOG_GROUP_NAME"] ?? `/aws/lambda/${functionName}`,
    logStreamName: process.env["AWS_LAMBDA_LOG_STREAM_NAME"] ?? "",
    getRemainingTimeInMillis: () => (Number.isFinite(deadlineMs) ? Math.max(0, deadlineMs - Date.now()) : 900_000),
  };
}

/** Serve invocations forever. */
async function loop(handler: LambdaHandler): Promise<never> {
  for (;;) {
    const next = await call("GET", "/invocation/next");
    if (next.status !== 200) throw new TswrenError(ErrorCodes.PROTOCOL, `the Runtime API answered ${next.status} to invocation/next: ${next.text.slice(0, 200)}`);
    const context = contextOf(next.headers);
    const id = encodeURIComponent(context.awsRequestId);
    let outcome: { ok: true; body: string } | { ok: false; body: RuntimeErrorBody };
    try {
      const event: unknown = next.text === "" ? {} : JSON.parse(next.text);
      const result = await handler(event, context);
      outcome = { ok: true, body: JSON.stringify(result ?? null) };
    } catch (err) {
      outcome = { ok: false, body: errorBody(err) };
    }
    if (outcome.ok) await call("POST", `/invocation/${id}/response`, outcome.body);
    else await call("POST", `/invocation/${id}/error`, JSON.stringify(outcome.body), { "lambda-runtime-function-error-type": outcome.body.errorType });
  }
}

/** Load the handler (reporting an init error) and serve invocations. */
async function main(): Promise<void> {
  let handler: LambdaHandler;
  try {
    handler = await loadHandler();
  } catch (err) {
    const body = errorBody(err);
    process.stderr.write(`tswren lambda runtime: init error: ${body.errorMessage}\n`);
    await call("POST", "/init/error", JSON.stringify(body), { "lambda-runtime-function-error-type": `Runtime.${body.errorType}` }).catch(() => undefined);
    process.exit(1);
  }
  await loop(handler);
}

main().catch((err: unknown) => {
  process.stderr.write(`tswren lambda runtime: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
