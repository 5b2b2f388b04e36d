/**
 * A real RabbitMQ broker for tests, one per call, on 127.0.0.1.
 *
 * `startRabbitmq()` installs Debian's `rabbitmq-server` when missing (`rabbitmq.sh install`),
 * starts a private node on free ports (AMQP, Erlang distribution and its own epmd, all on
 * loopback) with its data in a fresh temporary directory, waits for it, and creates a per-run
 * user and vhost with `rabbitmqctl` (the default `guest` user is deleted). `stop()` ends the node
 * and removes the directory.
 *
 * The node never outlives the test process: it runs under `supervise.sh`, which holds the read end
 * of a pipe only this process writes to; when this process ends in any way, the supervisor kills
 * the node's whole process group (broker, epmd) and removes its directory.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../helpers/ports.js";

/** A running broker. */
export interface RabbitmqServer {
  /** `amqp://user:password@127.0.0.1:port/vhost` of the per-run user and vhost. */
  amqpUrl: string;
  port: number;
  user: string;
  password: string;
  vhost: string;
  /** Run `rabbitmqctl` against this node; resolves with its stdout. */
  ctl(...args: string[]): Promise<string>;
  /** Stop the broker application (connections close, the port stops listening); the node stays. */
  stopApp(): Promise<void>;
  /** Start the broker application again after {@link stopApp}. */
  startApp(): Promise<void>;
  /** Kill the node and remove its data. Safe to call more than once. */
  stop(): Promise<void>;
}

/** Options of {@link startRabbitmq}. */
export interface RabbitmqOptions {
  /** The broker's `max_message_size`: larger messages are refused (default: the broker's). */
  maxMessageBytes?: number;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
const SCRIPT = path.join(HERE, "rabbitmq.sh");
const SUPERVISE = path.join(HERE, "supervise.sh");
const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 15_000;

let installing: Promise<void> | undefined;

function run(args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("bash", [SCRIPT, ...args], { timeout: timeoutMs, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`rabbitmq.sh ${args[0] ?? ""} ${args[0] === "ctl" ? (args[2] ?? "") : ""} failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => { resolve(); }));
}

async function distinctPorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** Resolves once the node answers `await_startup`; rejects when it exits or takes too long. */
async function awaitStartup(child: ChildProcess, ctl: (...args: string[]) => Promise<string>, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the rabbitmq node exited during startup; its output ends with:\n${output()}`);
    try {
      await ctl("await_startup", "--timeout", "30");
      return;
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`rabbitmq did not start within ${READY_TIMEOUT_MS / 1000} s: ${String(err)}\n${output()}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

/**
 * Install RabbitMQ if needed and start a fresh broker with its own user and vhost.
 * Rejects with the node's output when it does not come up within 90 s.
 */
export async function startRabbitmq(options: RabbitmqOptions = {}): Promise<RabbitmqServer> {
  installing ??= run(["install"], 600_000).then(() => undefined);
  installing.catch(() => { installing = undefined; });
  await installing;
  const [port, dist, epmd] = (await distinctPorts(3)) as [number, number, number];
  const dir = mkdtempSync(path.join(tmpdir(), "tswren-rabbitmq-"));
  await run(["prepare", dir, String(port), String(dist), String(epmd), ...(options.maxMessageBytes !== undefined ? [String(options.maxMessageBytes)] : [])]);
  const child = spawn("bash", [SUPERVISE, dir, "--", "bash", SCRIPT, "node", dir], { stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  const keep = (c: string): void => { output = (output + c).slice(-8192); };
  child.stdout.setEncoding("utf8").on("data", keep);
  child.stderr.setEncoding("utf8").on("data", keep);
  child.stdin.on("error", () => undefined);
  const onExit = (): void => { child.kill("SIGTERM"); };
  process.once("exit", onExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      child.stdin.end(); // EOF: the supervisor stops the node's process group and removes `dir`
      const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
      await exited(child);
      clearTimeout(timer);
      process.removeListener("exit", onExit);
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    })());
  const ctl = (...args: string[]): Promise<string> => run(["ctl", dir, ...args]);

  try {
    await awaitStartup(child, ctl, () => output);
    const user = `tswren${randomBytes(6).toString("hex")}`;
    const password = randomBytes(18).toString("hex");
    const vhost = `tswren-${randomBytes(6).toString("hex")}`;
    await ctl("add_vhost", vhost);
    await ctl("add_user", user, password);
    await ctl("set_permissions", "-p", vhost, user, ".*", ".*", ".*");
    await ctl("delete_user", "guest");
    return {
      amqpUrl: `amqp://${user}:${password}@127.0.0.1:${port}/${vhost}`,
      port,
      user,
      password,
      vhost,
      ctl,
      stopApp: async () => { await ctl("stop_app"); },
      startApp: async () => { await ctl("start_app"); },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
