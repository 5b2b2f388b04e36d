/**
 * One worker slot of the docker backend: a long-lived container started with `docker run -i`,
 * running the tswren runtime's docker entry, which takes calls one after another over the
 * container's stdin/stdout. Tracks the calls sent to it and, when the container ends, why.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { InvocationPayload } from "../../protocol.js";
import { PoolSlot, type KillReason, type QueuedCall, type RefHandle } from "../pool-slot.js";
import { dockerEnv, runDocker } from "./docker-cli.js";
import { encodeFrame, FrameReader, type DockerHostMessage, type DockerWorkerMessage } from "./frames.js";
import type { DockerSettings } from "./settings.js";

/** How the container ended, as the engine reports it (null when it was already removed). */
export interface ContainerEnd {
  exitCode: number | null;
  oomKilled: boolean;
  /** The engine's own error text (e.g. it could not start the container). */
  engineError: string;
  /** The container was gone when the client looked (removed from outside). */
  vanished: boolean;
}

/** What a container needs to run: image, limits, mounts. Slots with equal specs are interchangeable. */
export interface ContainerSpec {
  memoryMb: number;
  /** Host directories mounted at the same path inside (read-write), e.g. the storage root. */
  mounts: string[];
}

/** Labels every container of this backend carries (so leftovers are found). */
export const LABEL_CONTAINER = "tswren.container";
export const LABEL_CLIENT = "tswren.client";
export const LABEL_CLIENT_PID = "tswren.client-pid";
export const LABEL_CLIENT_HOST = "tswren.client-host";

/** Where the client's runtime directory is mounted inside every container. */
export const RUNTIME_MOUNT = "/opt/tswren-client-runtime";

/** Identity of this client process, written as labels on its containers. */
export interface ClientIdentity {
  clientId: string;
  pid: number;
  host: string;
}

/** The `docker run` arguments of a slot. */
export function runArgs(name: string, settings: DockerSettings, spec: ContainerSpec, client: ClientIdentity, runtimeDir: string): string[] {
  const heapMb = Math.max(32, Math.floor(spec.memoryMb * 0.75));
  const user = process.getuid !== undefined && process.getgid !== undefined ? ["--user", `${process.getuid()}:${process.getgid()}`] : [];
  return [
    "run", "-i", "--init", "--name", name,
    "--label", `${LABEL_CONTAINER}=1`, "--label", `${LABEL_CLIENT}=${client.clientId}`,
    "--label", `${LABEL_CLIENT_PID}=${client.pid}`, "--label", `${LABEL_CLIENT_HOST}=${client.host}`,
    "--memory", `${spec.memoryMb}m`, "--memory-swap", `${spec.memoryMb}m`,
    "--network", settings.network, ...user,
    "--env", "TSWREN_WORKER=1", "--env", "HOME=/tmp", "--env", `TSWREN_CONTAINER=${name}`,
    "--volume", `${runtimeDir}:${RUNTIME_MOUNT}:ro`,
    ...spec.mounts.flatMap((dir) => ["--volume", `${dir}:${dir}`]),
    "--entrypoint", "node", settings.image,
    `--max-old-space-size=${heapMb}`, `${RUNTIME_MOUNT}/docker-worker.mjs`,
  ];
}

/** Wrapper around one container and the `docker run -i` process attached to it. */
export class DockerContainer extends PoolSlot {
  readonly name: string;
  readonly spec: ContainerSpec;
  readonly specKey: string;
  readonly child: ChildProcess;
  readonly startedMs = Date.now();
  /** When the runtime inside said it is ready. */
  readyMs = 0;
  private readonly settings: DockerSettings;
  private readonly reader = new FrameReader<DockerWorkerMessage>();
  /** Resolves once the container is gone and reported. */
  readonly ended: Promise<void>;
  private markEnded: () => void = () => undefined;

  /**
   * Start the container (`docker run -i`, attached).
   * @param onMessage - called for each message from the runtime
   * @param onEnd - called once when the container is gone, with how it ended
   */
  constructor(
    settings: DockerSettings,
    spec: ContainerSpec,
    client: ClientIdentity,
    runtimeDir: string,
    onMessage: (c: DockerContainer, m: DockerWorkerMessage) => void,
    onEnd: (c: DockerContainer, end: ContainerEnd) => void,
  ) {
    super();
    this.settings = settings;
    this.ended = new Promise((resolve) => { this.markEnded = resolve; });
    this.spec = spec;
    this.specKey = JSON.stringify(spec);
    this.name = `tswren-${client.pid}-${randomBytes(4).toString("hex")}`;
    this.child = spawn(settings.dockerCli, runArgs(this.name, settings, spec, client, runtimeDir), {
      env: dockerEnv(settings),
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.child.stdin?.on("error", () => undefined);
    this.child.on("error", (err) => { this.stderrTail += `\n${err.message}`; });
    this.child.stderr?.setEncoding("utf8");
    this.child.stderr?.on("data", (chunk: string) => { this.appendStderr(chunk); });
    this.child.stdout?.on("data", (chunk: Buffer) => { this.onData(chunk, onMessage); });
    this.child.once("close", () => {
      this.clearTimer();
      void this.inspectAndRemove().then((end) => {
        this.exited = true;
        onEnd(this, end);
        this.markEnded();
      });
    });
    this.setActive(false);
  }

  private onData(chunk: Buffer, onMessage: (c: DockerContainer, m: DockerWorkerMessage) => void): void {
    let messages: DockerWorkerMessage[];
    try {
      messages = this.reader.push(chunk);
    } catch (err) {
      this.stderrTail += `\n${err instanceof Error ? err.message : String(err)}`;
      this.kill({ kind: "stall" });
      return;
    }
    for (const m of messages) onMessage(this, m);
  }

  /** Ask the engine how the container ended, then remove it. */
  private async inspectAndRemove(): Promise<ContainerEnd> {
    let end: ContainerEnd = { exitCode: this.child.exitCode, oomKilled: false, engineError: "", vanished: true };
    try {
      const state = JSON.parse(await runDocker(this.settings, ["inspect", "--format", "{{json .State}}", this.name], { timeoutMs: 30_000 })) as { ExitCode?: number; OOMKilled?: boolean; Error?: string };
      end = { exitCode: state.ExitCode ?? null, oomKilled: state.OOMKilled === true, engineError: state.Error ?? "", vanished: false };
    } catch {
      // removed from outside (or the engine went away): `vanished` says so
    }
    await removeContainers(this.settings, [this.name]);
    return end;
  }

  /** Send calls (all of one invocation) to the runtime. */
  send(payload: InvocationPayload, calls: QueuedCall[]): void {
    this.inflight.push(...calls);
    this.write({ type: "invoke", payload: { ...payload, calls: calls.map((c) => c.call) } });
  }

  private write(message: DockerHostMessage): void {
    if (this.child.stdin?.writable === true) this.child.stdin.write(encodeFrame(message));
  }

  protected refHandles(): RefHandle[] {
    return [this.child, this.child.stdin, this.child.stdout, this.child.stderr] as RefHandle[];
  }

  /** Remove the container at once (`docker rm -f`), remembering why. */
  kill(reason: KillReason): void {
    if (this.exited) return;
    this.killReason ??= reason;
    void removeContainers(this.settings, [this.name]);
  }

  /** End the container: ask the runtime to exit when idle, else remove it; resolves when gone. */
  shutdown(): Promise<void> {
    if (this.exited) return Promise.resolve();
    // An idle container's handles are unref'd: hold the process until it is gone (else a script's
    // `await fx.close()` would end with an unsettled promise and leave the container behind).
    this.setActive(true);
    this.killReason ??= { kind: "shutdown" };
    if (this.inflight.length > 0 || !this.ready) this.kill({ kind: "shutdown" });
    else this.write({ type: "shutdown" });
    this.child.stdin?.end();
    return this.ended;
  }

}

/** `docker rm -f NAMES...`; never throws (a container already gone is fine). */
export async function removeContainers(target: Pick<DockerSettings, "dockerCli" | "dockerHost">, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  try {
    await runDocker(target, ["rm", "-f", ...names], { timeoutMs: 60_000 });
  } catch {
    // already removed, or the engine is gone (its containers with it)
  }
}
