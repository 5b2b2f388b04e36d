/**
 * Test helper: start one of the runtime's servers (the OpenWhisk action proxy or the Knative HTTP
 * server, as built into kernel-lib/dist/runtime) as a child process on a free port, wait for its
 * `listening` message on the IPC channel, and collect its stdout and stderr.
 */
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";
import { TEST_SIGNING_KEY } from "./signing.js";

/** The built runtime folder (`npm run build` fills it). */
export const RUNTIME_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../kernel-lib/dist/runtime");

/** A running runtime server. */
export interface RuntimeProcess {
  child: ChildProcess;
  /** `http://127.0.0.1:<port>` */
  url: string;
  /** Everything written to stdout / stderr so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves once `stream`'s output satisfies `test` (checked on every write, no polling). */
  waitForOutput(stream: "stdout" | "stderr", test: (text: string) => boolean): Promise<string>;
  /** Resolves with the exit code (or signal name) once the process ended. */
  exited: Promise<number | string>;
  /** Kill the process (SIGKILL) unless it already ended. */
  kill(): void;
}

/**
 * Start `node <RUNTIME_DIST>/<file>` with `PORT=0` on 127.0.0.1, deployed with the suites' signing
 * key and allowed to use localhost storage under the temp folder (override either in `env`).
 * @param file - `action-proxy.mjs` or `http-server.mjs`
 * @param env - extra environment
 * @returns the process, once it listens
 */
export async function startRuntimeProcess(file: string, env: Record<string, string> = {}): Promise<RuntimeProcess> {
  const child = spawn(process.execPath, [path.join(RUNTIME_DIST, file)], {
    env: { ...process.env, PORT: "0", TSWREN_LISTEN_HOST: "127.0.0.1", TSWREN_SIGNING_KEY: TEST_SIGNING_KEY, TSWREN_LOCALHOST_STORAGE_ROOT: tmpdir(), ...env },
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  const text = { stdout: "", stderr: "" };
  const waiters: Array<() => void> = [];
  for (const name of ["stdout", "stderr"] as const) {
    child[name]?.setEncoding("utf8");
    child[name]?.on("data", (chunk: string) => {
      text[name] += chunk;
      for (const w of waiters.splice(0)) w();
    });
  }
  const exited = new Promise<number | string>((resolve) => {
    child.once("exit", (code, signal) => {
      for (const w of waiters.splice(0)) w();
      resolve(code ?? signal ?? -1);
    });
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once("message", (m: { type?: string; port?: number }) => {
      if (m.type === "listening" && typeof m.port === "number") resolve(m.port);
    });
    void exited.then((code) => { reject(new Error(`${file} exited (${code}) before listening: ${text.stderr}`)); });
  });
  let ended = false;
  void exited.then(() => { ended = true; });
  return {
    child,
    url: `http://127.0.0.1:${port}`,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    waitForOutput(stream, test) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (test(text[stream])) resolve(text[stream]);
          else if (ended) reject(new Error(`${file} exited; ${stream} was:\n${text[stream]}`));
          else waiters.push(check);
        };
        check();
      });
    },
    exited,
    kill() {
      if (!ended) child.kill("SIGKILL");
    },
  };
}

/**
 * POST a JSON body and read the JSON answer.
 * @param url - full URL
 * @param body - sent as JSON
 * @returns HTTP status and the parsed body, typed as the caller expects it (`T`)
 */
// The caller names the shape it expects of the JSON answer (test code: checked by its assertions).
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
export async function postJson<T = Record<string, unknown>>(url: string, body: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as T };
}
