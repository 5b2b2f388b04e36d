/**
 * A test server that never outlives the test process: it runs under `minio.sh supervise DIR --
 * CMD...` (generic despite the script's name), which kills the server (SIGTERM, SIGKILL after
 * 5 s) and removes DIR when this process closes the pipe or dies in any way, SIGKILL included.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const SUPERVISOR = path.join(path.dirname(fileURLToPath(import.meta.url)), "minio.sh");
const TAIL_BYTES = 8_000;

/** How to start a supervised server. */
export interface SupervisedOptions {
  /** Name for error messages, e.g. `jupyter-lab`. */
  name: string;
  command: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Removed when the server stops. */
  dir: string;
  /** Resolves true once the server answers; polled every 200 ms. */
  ready: () => Promise<boolean>;
  readyTimeoutMs: number;
  /** How long {@link Supervised.stop} waits for a clean exit before SIGKILL. */
  stopTimeoutMs?: number;
}

/** A running supervised server. */
export interface Supervised {
  /** The last output of the server, for error messages. */
  output: () => string;
  /** Stops the server and removes its directory; safe to call more than once. */
  stop: () => Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Start the server and wait until `ready()` answers true. Rejects with the server's output when
 * it exits first or does not get ready in time (the server is stopped then).
 */
export async function startSupervised(opts: SupervisedOptions): Promise<Supervised> {
  const child = spawn("bash", [SUPERVISOR, "supervise", opts.dir, "--", opts.command, ...opts.args], {
    env: opts.env,
    cwd: opts.cwd,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let tail = "";
  const push = (chunk: string): void => void (tail = (tail + chunk).slice(-TAIL_BYTES));
  child.stdout.setEncoding("utf8").on("data", push);
  child.stderr.setEncoding("utf8").on("data", push);
  child.stdin.on("error", () => {}); // EPIPE if the supervisor is already gone
  let spawnError: Error | undefined;
  child.on("error", (err) => (spawnError = err));
  const output = (): string => tail.trim() || "(no output)";
  const onExit = (): void => {
    child.kill("SIGTERM");
    rmSync(opts.dir, { recursive: true, force: true, maxRetries: 3 });
  };
  process.once("exit", onExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      child.stdin.end(); // EOF: the supervisor stops the server and removes the directory
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), opts.stopTimeoutMs ?? 15_000)));
      const done = await Promise.race([exited(child).then(() => true), timedOut]);
      clearTimeout(timer);
      if (!done) {
        child.kill("SIGKILL");
        await exited(child);
      }
      process.removeListener("exit", onExit);
      rmSync(opts.dir, { recursive: true, force: true, maxRetries: 3 });
    })());

  const deadline = Date.now() + opts.readyTimeoutMs;
  for (;;) {
    if (spawnError !== undefined || child.exitCode !== null || child.signalCode !== null) {
      await stop();
      const why = spawnError?.message ?? child.signalCode ?? `exit ${String(child.exitCode)}`;
      throw new Error(`${opts.name} exited during startup (${why}); its output ends with:\n${output()}`);
    }
    if (await opts.ready()) return { output, stop };
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${opts.name} was not ready within ${opts.readyTimeoutMs / 1000} s; its output ends with:\n${output()}`);
    }
    await sleep(200);
  }
}
