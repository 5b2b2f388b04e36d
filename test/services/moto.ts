/**
 * A real moto server (AWS control-plane APIs: IAM, Lambda, ...) for tests, one per call, on
 * 127.0.0.1.
 *
 * `startMoto()` installs moto once through `moto.sh install` (a venv in
 * `$TSWREN_SERVICES_DIR/moto-venv`), starts `moto_server -H 127.0.0.1 -p PORT` under the
 * supervisor (it never outlives the test process), then, in this order and before anything is
 * created: `POST /moto-api/reset`, `POST /moto-api/config {"lambda":{"use_docker":false}}`
 * (switching it later drops the functions created before).
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../helpers/ports.js";
import { startSupervised } from "./supervised.js";

/** A running moto server. */
export interface MotoServer {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** Stops the server; safe to call more than once. */
  stop(): Promise<void>;
}

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "moto.sh");

/** Runs `SCRIPT ARG` and resolves with the last line it printed on stdout. */
export function runServiceScript(script: string, arg: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const child = spawn("bash", [script, arg], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.on("error", (err) => reject(new Error(`cannot run ${script}: ${err.message}`)));
    child.on("close", (code, signal) => {
      const value = out.trim().split("\n").pop() ?? "";
      if (code === 0 && value !== "") resolve(value);
      else reject(new Error(`${script} ${arg} failed (${signal ?? `exit ${String(code)}`}); its stderr above says why`));
    });
  });
}

let installing: Promise<string> | undefined;

/** `moto.sh install`, once per process; resolves with the path of `moto_server`. */
export function installMoto(): Promise<string> {
  installing ??= runServiceScript(SCRIPT, "install");
  installing.catch(() => (installing = undefined));
  return installing;
}

async function answers(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/moto-api/data.json`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

async function post(endpoint: string, route: string, body?: unknown): Promise<void> {
  const res = await fetch(`${endpoint}${route}`, {
    method: "POST",
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`moto ${route} answered ${res.status}: ${text.slice(0, 300)}`);
}

/**
 * Install moto when needed (about 25 s the first time) and start a fresh server with Lambda's
 * Docker mode off.
 */
export async function startMoto(): Promise<MotoServer> {
  const bin = await installMoto();
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "tswren-moto-"));
  const endpoint = `http://127.0.0.1:${port}`;
  const server = await startSupervised({
    name: "moto_server",
    command: bin,
    args: ["-H", "127.0.0.1", "-p", String(port)],
    env: { ...process.env, HOME: dir, AWS_ACCESS_KEY_ID: "testing", AWS_SECRET_ACCESS_KEY: "testing" },
    cwd: dir,
    dir,
    ready: () => answers(endpoint),
    readyTimeoutMs: 60_000,
  });
  try {
    await post(endpoint, "/moto-api/reset");
    await post(endpoint, "/moto-api/config", { lambda: { use_docker: false } });
  } catch (err) {
    await server.stop();
    throw err;
  }
  return { endpoint, stop: server.stop };
}
