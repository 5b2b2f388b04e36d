/**
 * A real MinIO S3 server for tests, one per call, on 127.0.0.1.
 *
 * `startMinio()` builds MinIO once through `minio.sh install` (cached in
 * `$TSWREN_SERVICES_DIR/bin`, default `~/.cache/tswren-services/bin`), then starts it on free
 * ports with a fresh temporary data directory and random root credentials, and resolves when
 * `/minio/health/live` answers 200. `stop()` ends the server and removes the directory.
 *
 * The server never outlives the test process: it runs under `minio.sh supervise`, which holds
 * the read end of a pipe whose write end only this process holds. When this process exits in
 * any way (normal exit, uncaught error, SIGTERM, even SIGKILL) the pipe reaches EOF and the
 * supervisor kills MinIO and removes its data directory. `stop()` closes the same pipe.
 *
 * Clients must use path-style addressing (`forcePathStyle: true` in `@aws-sdk/client-s3`).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { freePort } from "../helpers/ports.js";
import { startSupervised } from "./supervised.js";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** A running MinIO server. */
export interface MinioServer {
  /** `http://127.0.0.1:<port>`: use with `forcePathStyle: true`. */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  region: string;
  /** Kills the server and removes its data directory. Safe to call more than once. */
  stop(): Promise<void>;
}

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "minio.sh");
const REGION = "us-east-1";
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

let installing: Promise<string> | undefined;

/** Runs `minio.sh install` (once per process) and returns the binary's path. */
function installMinio(): Promise<string> {
  installing ??= new Promise<string>((resolve, reject) => {
    const child = spawn("bash", [SCRIPT, "install"], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => (out += chunk));
    child.on("error", (err) => reject(new Error(`cannot run ${SCRIPT}: ${err.message}`)));
    child.on("close", (code, signal) => {
      const bin = out.trim().split("\n").pop() ?? "";
      if (code === 0 && bin) resolve(bin);
      else reject(new Error(`${SCRIPT} install failed (${signal ?? `exit ${String(code)}`}); its stderr above says why`));
    });
  });
  installing.catch(() => {
    installing = undefined; // a later call may try again
  });
  return installing;
}

async function healthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/minio/health/live`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

async function launch(bin: string): Promise<MinioServer> {
  const port = await freePort();
  let consolePort = await freePort();
  while (consolePort === port) consolePort = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), "tswren-minio-"));
  const accessKey = `tswren${randomBytes(8).toString("hex")}`;
  const secretKey = randomBytes(24).toString("hex");
  const endpoint = `http://127.0.0.1:${port}`;

  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("MINIO_")) env[k] = v;
  Object.assign(env, {
    MINIO_ROOT_USER: accessKey,
    MINIO_ROOT_PASSWORD: secretKey,
    MINIO_SITE_REGION: REGION,
    MINIO_BROWSER: "off",
    MINIO_UPDATE: "off",
    MINIO_CI_CD: "on",
  });
  // Under the supervisor (test/services/supervised.ts): it never outlives this process.
  const server = await startSupervised({
    name: "minio",
    command: bin,
    args: [
      "server", "--anonymous",
      "--address", `127.0.0.1:${port}`,
      "--console-address", `127.0.0.1:${consolePort}`,
      "--certs-dir", path.join(dir, "certs"),
      path.join(dir, "data"),
    ],
    env,
    dir,
    ready: () => healthy(endpoint),
    readyTimeoutMs: READY_TIMEOUT_MS,
    stopTimeoutMs: STOP_TIMEOUT_MS,
  });
  return { endpoint, accessKey, secretKey, region: REGION, stop: server.stop };
}

/**
 * Builds MinIO if needed (the first build takes minutes) and starts a fresh server.
 * Rejects with the server's output when it does not become healthy within 60 s.
 */
export async function startMinio(): Promise<MinioServer> {
  const bin = await installMinio();
  for (let attempt = 1; ; attempt++) {
    try {
      return await launch(bin);
    } catch (err) {
      // A free port can be taken between picking it and minio binding it: pick again.
      if (err instanceof Error && /address already in use/i.test(err.message) && attempt < 3) continue;
      throw err;
    }
  }
}
