/** The docker backend's settings, read once from its validated `docker` config section. */
import type { ConfigSection } from "../../config/types.js";
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

/**
 * Read the settings from the loaded `docker` section (defaults already applied).
 * @param config - the `docker` section
 */
export function dockerSettings(config: ConfigSection<"docker">): DockerSettings {
  return {
    image: config.runtime ?? defaultImageName(),
    memoryMb: config.runtime_memory,
    timeoutS: config.runtime_timeout,
    workers: config.max_workers,
    dockerHost: config.docker_host,
    dockerCli: config.docker_cli,
    network: config.network,
    startTimeoutS: config.start_timeout,
  };
}
