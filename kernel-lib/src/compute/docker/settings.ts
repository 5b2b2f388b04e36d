/** The docker backend's settings, read once from its validated `docker` config section. */
import { availableParallelism } from "node:os";
import { TSWREN_VERSION } from "../../version.js";

/** Smallest container memory limit (MB): below it node cannot start the runtime reliably. */
export const MIN_MEMORY_MB = 64;

/** The `docker` section, as the backend uses it. */
export interface DockerSettings {
  /** Image of the containers. */
  image: string;
  /** Default container memory limit. */
  memoryMb: number;
  /** Default per-call time limit. */
  timeoutS: number;
  /** Containers (worker slots) at once. */
  workers: number;
  /** Engine address, `unix://PATH` or `tcp://HOST:PORT`. */
  dockerHost: string;
  /** The docker CLI program. */
  dockerCli: string;
  network: "host" | "none";
  /** Longest a container may take to say it is ready. */
  startTimeoutS: number;
}

/** Name of the image `tswren runtime build --backend docker` builds when given no `--name`. */
export function defaultImageName(): string {
  return `tswren-runtime:${TSWREN_VERSION}`;
}

function num(config: Record<string, unknown>, key: string, fallback: number): number {
  const value = config[key];
  return typeof value === "number" ? value : fallback;
}

function str(config: Record<string, unknown>, key: string, fallback: string): string {
  const value = config[key];
  return typeof value === "string" && value !== "" ? value : fallback;
}

/**
 * Read the settings from the validated `docker` section (defaults for keys left out, so a
 * section built by hand works too).
 * @param config - the `docker` section
 */
export function dockerSettings(config: Record<string, unknown>): DockerSettings {
  return {
    image: str(config, "runtime", defaultImageName()),
    memoryMb: num(config, "runtime_memory", 512),
    timeoutS: num(config, "runtime_timeout", 600),
    workers: num(config, "max_workers", availableParallelism()),
    dockerHost: str(config, "docker_host", process.env["DOCKER_HOST"] ?? "unix:///var/run/docker.sock"),
    dockerCli: str(config, "docker_cli", "docker"),
    network: config["network"] === "none" ? "none" : "host",
    startTimeoutS: num(config, "start_timeout", 60),
  };
}
