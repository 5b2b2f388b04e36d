/**
 * The router's control plane: every request that is not an invocation goes to moto unchanged
 * (IAM, Lambda's create/update/get/list/delete/tags...), so the real SDK sees moto's real
 * answers. On the way, the router keeps what moto cannot give back, the function's code: the
 * zip of CreateFunction / UpdateFunctionCode (`Code.ZipFile`, `ZipFile`), stored by its
 * `CodeSha256` once moto accepted the request. The configuration of a function (handler,
 * timeout, memory, environment, code hash) is read from moto's GetFunction at invoke time and
 * cached until a request changes that function.
 */
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { unzipSync } from "fflate";
import type { FunctionVersion } from "./function-pool.js";

/** A function's configuration, or moto's answer when it has none. */
export type Lookup = { ok: true; version: FunctionVersion } | { ok: false; status: number; headers: Record<string, string>; body: string };

const FUNCTION_PATH = /^\/2015-03-31\/functions\/([^/?]+)(\/[^?]*)?/;

/** The function name in a Lambda API path (names and ARNs), or undefined. */
export function functionNameOf(url: string): string | undefined {
  const m = FUNCTION_PATH.exec(url);
  if (m?.[1] === undefined) return undefined;
  const raw = decodeURIComponent(m[1]);
  const arn = /^arn:aws[^:]*:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(raw);
  return arn?.[1] ?? raw.split(":")[0];
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** One HTTP exchange with moto, headers as given (Host included). */
function relay(url: string, method: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      readBody(res).then((text) => { resolve({ status: res.statusCode ?? 502, headers: res.headers, body: text }); }, reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** The zip a control-plane request uploads, if any. */
function uploadedZip(method: string, url: string, body: Buffer): { name: string; zip: Buffer } | undefined {
  if (body.length === 0 || !(method === "POST" || method === "PUT")) return undefined;
  let json: { FunctionName?: unknown; Code?: { ZipFile?: unknown }; ZipFile?: unknown };
  try {
    json = JSON.parse(body.toString("utf8")) as typeof json;
  } catch {
    return undefined;
  }
  if (method === "POST" && url.split("?")[0] === "/2015-03-31/functions" && typeof json.Code?.ZipFile === "string" && typeof json.FunctionName === "string") {
    return { name: json.FunctionName, zip: Buffer.from(json.Code.ZipFile, "base64") };
  }
  const name = functionNameOf(url);
  if (method === "PUT" && name !== undefined && /\/code$/.test(url.split("?")[0] ?? "") && typeof json.ZipFile === "string") {
    return { name, zip: Buffer.from(json.ZipFile, "base64") };
  }
  return undefined;
}

/**
 * Lambda's answer for moto's authentication errors. moto (with its IAM checks on) refuses bad
 * credentials with IAM's XML `ErrorResponse` on every service; Lambda's REST-JSON API answers
 * JSON with `x-amzn-ErrorType`, which is what the SDK's Lambda client parses. Any other answer:
 * undefined (relayed as it is).
 */
export function lambdaAuthError(status: number, text: string): { errorType: string; body: string } | undefined {
  if (status !== 403 || !text.includes("<ErrorResponse>")) return undefined;
  const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1] ?? "AccessDenied";
  const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? "Access denied";
  const errorType = LAMBDA_AUTH_ERRORS[code] ?? "AccessDeniedException";
  return { errorType, body: JSON.stringify({ Type: "User", message }) };
}

/** IAM's error codes and Lambda's names for the same refusal. */
const LAMBDA_AUTH_ERRORS: Record<string, string> = {
  InvalidClientTokenId: "UnrecognizedClientException",
  SignatureDoesNotMatch: "InvalidSignatureException",
  AccessDenied: "AccessDeniedException",
};

/** True for a Lambda API path (IAM and moto's own paths are not). */
function isLambdaPath(url: string): boolean {
  return /^\/20\d\d-\d\d-\d\d\//.test(url);
}

/** Proxy to moto, code store and configuration cache. */
export class ControlPlane {
  private readonly codeDirs = new Map<string, string>();
  private readonly versions = new Map<string, FunctionVersion>();
  private readonly root = mkdtempSync(path.join(tmpdir(), "tswren-lambda-code-"));
  /** Called when a request changed a function (its pool should be replaced). */
  onChange: (name: string) => void = () => {};

  /** @param motoEndpoint - `http://127.0.0.1:<port>` */
  constructor(private readonly motoEndpoint: string) {}

  /** The unpacked code of a zip hash, or undefined when the router never saw it uploaded. */
  codeDir(codeSha256: string): string | undefined {
    return this.codeDirs.get(codeSha256);
  }

  /** Forward a control-plane request to moto and relay its answer. */
  async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const method = req.method ?? "GET";
    const url = req.url ?? "/";
    // The request goes on with its own Host header (the router's): the SigV4 signature covers it,
    // and moto, when its IAM checks are on, verifies the signature.
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string" && k !== "connection") headers[k] = v;
    const answer = await relay(`${this.motoEndpoint}${url}`, method, headers, body);
    const text = answer.body;
    if (answer.status >= 200 && answer.status < 300 && method !== "GET") this.changed(method, url, body);
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(answer.headers)) {
      if (typeof v === "string" && k !== "content-length" && k !== "transfer-encoding" && k !== "connection" && k !== "content-encoding") out[k] = v;
    }
    const auth = isLambdaPath(url) ? lambdaAuthError(answer.status, text.toString("utf8")) : undefined;
    if (auth !== undefined) {
      res.writeHead(answer.status, { ...out, "content-type": "application/json", "x-amzn-errortype": auth.errorType, "content-length": Buffer.byteLength(auth.body) });
      res.end(auth.body);
      return;
    }
    res.writeHead(answer.status, { ...out, "content-length": text.length });
    res.end(text);
  }

  private changed(method: string, url: string, body: Buffer): void {
    const upload = uploadedZip(method, url, body);
    if (upload !== undefined) this.store(upload.zip);
    const name = upload?.name ?? functionNameOf(url);
    if (name === undefined) return;
    this.versions.delete(name);
    this.onChange(name);
  }

  private store(zip: Buffer): void {
    const sha = createHash("sha256").update(zip).digest("base64");
    if (this.codeDirs.has(sha)) return;
    const dir = path.join(this.root, createHash("sha256").update(zip).digest("hex").slice(0, 16));
    for (const [name, bytes] of Object.entries(unzipSync(new Uint8Array(zip)))) {
      if (name.endsWith("/")) continue;
      const file = path.join(dir, name);
      if (!file.startsWith(dir + path.sep)) continue; // no path escapes
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, bytes);
    }
    this.codeDirs.set(sha, dir);
  }

  /**
   * The function's current configuration (moto's GetFunction, cached until a change).
   * @param name - function name
   * @param authorization - the invoking request's Authorization header (moto reads region and account from it)
   */
  async lookup(name: string, authorization: string | undefined): Promise<Lookup> {
    const cached = this.versions.get(name);
    if (cached !== undefined) return { ok: true, version: cached };
    const answer = await fetch(`${this.motoEndpoint}/2015-03-31/functions/${encodeURIComponent(name)}`, { headers: authorization !== undefined ? { authorization } : {} });
    const text = await answer.text();
    if (!answer.ok) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      const auth = lambdaAuthError(answer.status, text);
      if (auth !== undefined) return { ok: false, status: answer.status, headers: { ...headers, "x-amzn-errortype": auth.errorType }, body: auth.body };
      const type = answer.headers.get("x-amzn-errortype");
      if (type !== null) headers["x-amzn-errortype"] = type;
      return { ok: false, status: answer.status, headers, body: text };
    }
    const c = (JSON.parse(text) as { Configuration: { FunctionName: string; CodeSha256: string; Handler?: string; Timeout?: number; MemorySize?: number; Environment?: { Variables?: Record<string, string> } } }).Configuration;
    const version: FunctionVersion = {
      name: c.FunctionName,
      codeSha256: c.CodeSha256,
      handler: c.Handler ?? "index.handler",
      timeoutS: c.Timeout ?? 3,
      memoryMb: c.MemorySize ?? 128,
      env: c.Environment?.Variables ?? {},
    };
    this.versions.set(name, version);
    return { ok: true, version };
  }

  /** Remove the unpacked code. */
  close(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
