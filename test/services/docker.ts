/**
 * The private Docker engine for tests: `docker.sh start` (installs Debian's docker.io when
 * missing, as root) and the test image built from local files by `docker.sh image` (the host's
 * node and its libraries, /bin/sh, the runtime bundle), cached by its inputs.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const SCRIPT = path.join(here, "docker.sh");
/** The runtime build the image carries (and the backend mounts). */
const RUNTIME_DIR = path.join(here, "../../kernel-lib/dist/runtime");

/** A running engine and the image to use. */
export interface DockerService {
  /** `unix://.../docker.sock`, for `docker.docker_host` and `DOCKER_HOST`. */
  dockerHost: string;
  /** The test image (node + the runtime). */
  image: string;
  /** Stops the engine if this call started it (a reused engine keeps running). */
  stop: () => Promise<void>;
}

function script(args: string[], timeoutMs: number): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile("bash", [SCRIPT, ...args], { timeout: timeoutMs, encoding: "utf8", env: { ...process.env, CI: process.env["CI"] ?? "" } }, (err, stdout, stderr) => {
      if (err) reject(new Error(`docker.sh ${args.join(" ")} failed: ${err.message}\n${stderr.trim().split("\n").slice(-20).join("\n")}`));
      else resolve({ stdout, stderr });
    });
  });
}

/**
 * Start (or reuse) the private dockerd and build (or reuse) the test image.
 * @throws Error with the script's output when the engine cannot be installed or started
 */
export async function startDocker(): Promise<DockerService> {
  const { stdout, stderr } = await script(["start"], 300_000);
  const started = !stderr.includes("already running");
  const m = /export DOCKER_HOST=(\S+)/.exec(stdout);
  if (m?.[1] === undefined) throw new Error(`docker.sh start printed no DOCKER_HOST:\n${stdout}\n${stderr}`);
  const dockerHost = m[1];
  const image = (await script(["image", RUNTIME_DIR], 300_000)).stdout.trim();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= started ? script(["stop"], 60_000).then(() => undefined) : Promise.resolve());
  return { dockerHost, image, stop };
}

/** `docker ARGS...` against the test engine; resolves with stdout. */
export function dockerCli(dockerHost: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("docker", args, { env: { ...process.env, DOCKER_HOST: dockerHost }, encoding: "utf8", timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`docker ${args.join(" ")}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}
