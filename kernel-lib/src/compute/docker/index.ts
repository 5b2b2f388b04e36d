/**
 * The docker backend: calls run in containers of a local Docker engine, one long-lived container
 * per worker slot (`docker.max_workers`), started on first use, each running the tswren runtime
 * and taking calls one after another over its stdin/stdout (the backend's direct channel, so no
 * storage polling). Containers are labelled with their client, removed on `close()`, by
 * `tswren clean`, and by a reaper process when the client dies.
 */
import path from "node:path";
import { ErrorCodes, TswrenError } from "../../errors.js";
import type { InvocationPayload } from "../../protocol.js";
import type { ComputeBackend, ComputeCapabilities, ComputeEvent, InvokeReceipt } from "../backend.js";
import { runtimeFile } from "../runtime-files.js";
import type { ConfigSection } from "../../config/types.js";
import { checkEngine, checkImage } from "./docker-cli.js";
import { DockerPool, type PoolFigures } from "./pool.js";
import { CLIENT, ensureReaper, sweepLeftovers } from "./reaper.js";
import { dockerSettings, MIN_MEMORY_MB, type DockerSettings } from "./settings.js";
import { showOnly } from "../../security/opaque.js";

/** Calls run in local Docker containers. */
export class DockerCompute implements ComputeBackend {
  readonly name = "docker";
  /** Events over each container's stdin/stdout; pending and running calls can be cancelled; every call is reported. */
  readonly capabilities: ComputeCapabilities = {
    reportsEveryCall: true,
    events: { subscribe: (listener) => this.onEvent(listener) },
    cancelPending: { cancel: (executorId, jobId) => this.pool.cancelPending(executorId, jobId) },
    cancelRunning: { cancel: (executorId, jobId) => this.pool.cancelRunning(executorId, jobId) },
  };
  /** The pool splits invocations into batches itself, so a whole job travels as one. */
  readonly callsPerInvocation = Number.POSITIVE_INFINITY;
  readonly settings: DockerSettings;
  private readonly pool: DockerPool;
  private readonly engineVersion: string;
  private readonly unsubscribes = new Set<() => void>();
  private closed = false;

  private constructor(settings: DockerSettings, engineVersion: string) {
    showOnly(this, "DockerCompute", () => ({ backend: this.name, describe: this.describe() }));
    this.settings = settings;
    this.engineVersion = engineVersion;
    this.pool = new DockerPool(settings, CLIENT, path.dirname(runtimeFile("docker-worker.mjs")));
  }

  /**
   * Check the engine and the image, then create the backend (no container starts before the
   * first call).
   * @param config - the validated `docker` section
   * @throws TswrenError `TSWREN_COMPUTE_UNREACHABLE` (no engine / CLI), `TSWREN_RUNTIME_MISSING`
   *   (image not in the engine), `TSWREN_CONFIG_BAD_VALUE` (memory below the minimum)
   */
  static async create(config: ConfigSection<"docker">): Promise<DockerCompute> {
    const settings = dockerSettings(config);
    checkMemory(settings.memoryMb, "docker.runtime_memory");
    runtimeFile("docker-worker.mjs");
    const engineVersion = await checkEngine(settings);
    await checkImage(settings, settings.image);
    ensureReaper(settings);
    await sweepLeftovers(settings);
    return new DockerCompute(settings, engineVersion);
  }

  /** Start times of the containers started so far (for benchmarks). */
  get figures(): PoolFigures {
    return this.pool.figures;
  }

  /** Names of this backend's containers alive now. */
  containerNames(): string[] {
    return this.pool.containerNames();
  }

  async invoke(payload: InvocationPayload): Promise<InvokeReceipt> {
    if (this.closed) throw new TswrenError(ErrorCodes.EXECUTOR_CLOSED, "the docker backend was closed; create a new executor");
    checkMemory(payload.memoryMb, "runtimeMemory");
    this.pool.submit(payload);
    return await Promise.resolve({ activationId: `${payload.executorId}-${payload.jobId}-${payload.calls[0]?.callId ?? "none"}` });
  }

  /** Subscribe to the containers' events (the `events` capability); returns unsubscribe. */
  onEvent(listener: (event: ComputeEvent) => void): () => void {
    this.pool.on("event", listener);
    const off = (): void => {
      this.pool.off("event", listener);
      this.unsubscribes.delete(off);
    };
    this.unsubscribes.add(off);
    return off;
  }

  describe(): string {
    return `docker: up to ${this.settings.workers} containers of ${this.settings.image} (engine ${this.engineVersion} at ${this.settings.dockerHost})`;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const off of [...this.unsubscribes]) off();
    await this.pool.close();
  }
}

/** @throws TswrenError `TSWREN_CONFIG_BAD_VALUE` when `memoryMb` is below {@link MIN_MEMORY_MB} */
function checkMemory(memoryMb: number, what: string): void {
  if (!Number.isFinite(memoryMb) || memoryMb < MIN_MEMORY_MB) {
    throw new TswrenError(ErrorCodes.CONFIG_BAD_VALUE, `${what} is ${memoryMb} MB, below the docker backend's minimum of ${MIN_MEMORY_MB} MB (node cannot run the runtime in less); raise it to ${MIN_MEMORY_MB} or more`);
  }
}
