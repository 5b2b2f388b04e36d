/**
 * Runs the `docker` CLI against the configured engine. The docker backend drives the engine
 * through the CLI (not an API client library): `docker run -i` gives each container's stdin and
 * stdout as plain pipes (the client's channel to the runtime inside), with the engine's attach
 * protocol, API version negotiation and the user's contexts handled by the tool that defines them.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { ErrorCodes, TswrenError } from "../../errors.js";
import type { DockerSettings } from "./settings.js";

/** What the CLI needs from the settings. */
export type EngineTarget = Pick<DockerSettings, "dockerCli" | "dockerHost">;

/** Environment of a docker CLI process: the engine address, nothing else changed. */
export function dockerEnv(target: EngineTarget): NodeJS.ProcessEnv {
  return { ...process.env, DOCKER_HOST: target.dockerHost };
}

/** Options of {@link runDocker}. */
export interface RunDockerOptions {
  /** Written to the CLI's stdin. */
  input?: Buffer | string;
  /** Kill the CLI after this long (default 120 s). */
  timeoutMs?: number;
}

/**
 * Run `docker ARGS...` and return its stdout.
 * @throws TswrenError `TSWREN_COMPUTE_UNREACHABLE` when the CLI is missing, `TSWREN_COMPUTE`
 *   with the CLI's error output when it fails
 */
export function runDocker(target: EngineTarget, args: readonly string[], options: RunDockerOptions = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      target.dockerCli,
      args,
      { env: dockerEnv(target), maxBuffer: 64 * 1024 * 1024, timeout: options.timeoutMs ?? 120_000, encoding: "utf8" },
      (err, stdout, stderr) => {
        if (err === null) {
          resolve(stdout);
          return;
        }
        if ((err as NodeJS.ErrnoException).code === "ENOENT") {
          reject(new TswrenError(ErrorCodes.COMPUTE_UNREACHABLE, `the docker CLI \`${target.dockerCli}\` was not found; install it (Debian: apt-get install docker.io) or set docker.docker_cli to its path`));
          return;
        }
        const detail = stderr.trim().split("\n").slice(-3).join(" ") || err.message;
        reject(new TswrenError(ErrorCodes.COMPUTE, `docker ${args[0] ?? ""} failed: ${detail}`, { cause: err }));
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
  });
}

/**
 * Check that the engine answers: its socket exists (for `unix://`) and `docker version` reaches
 * the server. Returns the engine's version.
 * @throws TswrenError `TSWREN_COMPUTE_UNREACHABLE` naming the address and how to fix it
 */
export async function checkEngine(target: EngineTarget): Promise<string> {
  const fix = "start the Docker engine (`systemctl start docker`, or `dockerd --host unix://PATH`) or point docker.docker_host (or $DOCKER_HOST) at a running one";
  if (target.dockerHost.startsWith("unix://")) {
    const socket = target.dockerHost.slice("unix://".length);
    if (!existsSync(socket)) {
      throw new TswrenError(ErrorCodes.COMPUTE_UNREACHABLE, `no Docker engine socket at ${socket} (docker.docker_host ${target.dockerHost}); ${fix}`);
    }
  }
  try {
    return (await runDocker(target, ["version", "--format", "{{.Server.Version}}"], { timeoutMs: 30_000 })).trim();
  } catch (err) {
    if (err instanceof TswrenError && err.code === ErrorCodes.COMPUTE_UNREACHABLE) throw err;
    const why = err instanceof Error ? err.message : String(err);
    throw new TswrenError(ErrorCodes.COMPUTE_UNREACHABLE, `the Docker engine at ${target.dockerHost} does not answer (${why}); ${fix}`, { cause: err });
  }
}

/**
 * Check that the image exists in the engine.
 * @throws TswrenError `TSWREN_RUNTIME_MISSING` with the commands that build or load it
 */
export async function checkImage(target: EngineTarget, image: string): Promise<void> {
  try {
    await runDocker(target, ["image", "inspect", "--format", "{{.Id}}", image], { timeoutMs: 30_000 });
  } catch (err) {
    throw new TswrenError(
      ErrorCodes.RUNTIME_MISSING,
      `the Docker image ${image} (docker.runtime) is not in the engine at ${target.dockerHost}; build it with \`tswren runtime build --backend docker --name ${image}\`, or load a saved one with \`docker load -i FILE.tar\` (no registry is needed)`,
      { cause: err },
    );
  }
}
