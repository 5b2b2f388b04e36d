/**
 * The private Docker engine for tests: `docker.sh start` (installs Debian's docker.io when
 * missing, as root) and the test image built from local files by `docker.sh image` (the host's
 * node and its libraries, /bin/sh, the runtime bundle), cached by its inputs.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
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
  /** Leaves the engine: the last user stops it if a test run started it (see {@link startDocker}). */
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
  if (!stderr.includes("already running")) writeFileSync(STARTED_MARKER, "");
  const user = registerUser();
  const m = /export DOCKER_HOST=(\S+)/.exec(stdout);
  if (m?.[1] === undefined) throw new Error(`docker.sh start printed no DOCKER_HOST:\n${stdout}\n${stderr}`);
  const dockerHost = m[1];
  const image = (await script(["image", RUNTIME_DIR], 300_000)).stdout.trim();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= release(user));
  return { dockerHost, image, stop };
}

// Several test files (processes) share the engine: each registers as a user; the last one to
// leave stops it, and only when a test run started it (a developer's own dockerd keeps running).
const RUN_DIR = path.join(process.env["TSWREN_SERVICES_DIR"] ?? path.join(homedir(), ".cache/tswren-services"), "docker");
const USERS_DIR = path.join(RUN_DIR, "users");
const STARTED_MARKER = path.join(RUN_DIR, "started-by-tests");

function registerUser(): string {
  mkdirSync(USERS_DIR, { recursive: true });
  const file = path.join(USERS_DIR, `${process.pid}-${randomBytes(4).toString("hex")}`);
  writeFileSync(file, "");
  return file;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function release(user: string): Promise<void> {
  rmSync(user, { force: true });
  const others = readdirSync(USERS_DIR).filter((f) => {
    const live = alive(Number(f.split("-")[0]));
    if (!live) rmSync(path.join(USERS_DIR, f), { force: true });
    return live;
  });
  if (others.length > 0 || !existsSync(STARTED_MARKER)) return;
  rmSync(STARTED_MARKER, { force: true });
  await script(["stop"], 60_000);
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
