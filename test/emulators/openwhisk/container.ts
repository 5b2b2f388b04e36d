/**
 * One emulated "container": a `node <proxy>` child process listening on `$PORT`, spoken to with
 * the action-proxy contract (`POST /init`, `POST /run`), with its stdout/stderr cut into
 * per-activation log chunks at the `XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX` markers.
 *
 * The child dies with the emulator's process: a preload watches its stdin pipe and exits when the
 * pipe closes, so even a SIGKILLed test run leaves no containers behind.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { EventEmitter, once } from "node:events";
import { Agent, request } from "node:http";
import { createConnection } from "node:net";
import { freePort } from "../../helpers/ports.js";
import { createInterface } from "node:readline";

/** The line the action proxy prints on stdout and stderr after each activation. */
export const END_MARKER = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX";

/** How a container process is started. */
export interface ContainerSpec {
  /** Script run as `node <proxyPath>`. */
  proxyPath: string;
  /** Environment besides PORT (PATH, HOME, `__OW_API_HOST`, extras). */
  env: Record<string, string>;
}

/** The proxy's answer to `/init` or `/run`. */
export interface ProxyReply {
  status: number;
  body: string;
}

/** Why a request to the proxy got no answer. */
export class ContainerRequestError extends Error {
  /**
   * @param kind - `timeout` (the deadline passed) or `connection` (crash, reset, refused)
   * @param message - details
   */
  constructor(
    readonly kind: "timeout" | "connection",
    message: string,
  ) {
    super(message);
    this.name = "ContainerRequestError";
  }
}

/** A request lost on a keep-alive socket the server closed first: safe to send again. */
class StaleSocketError extends Error {}

/** One activation's log lines, and whether both end markers were seen. */
export interface CollectedLogs {
  lines: string[];
  complete: boolean;
}

type Stream = "stdout" | "stderr";
interface LogLine {
  atMs: number;
  stream: Stream;
  text: string;
}

const READY_TIMEOUT_MS = 15_000;
const START_ATTEMPTS = 3;
const WATCHDOG = `data:text/javascript,${encodeURIComponent(
  'process.stdin.on("end",()=>process.exit(137));process.stdin.on("error",()=>process.exit(137));process.stdin.resume();process.stdin.unref();',
)}`;

let nextContainerId = 1;
/** Ports of live containers, never handed out twice. */
const reservedPorts = new Set<number>();

/** A running action-proxy process. */
export class Container {
  /** Sequence number, for diagnostics. */
  readonly id = nextContainerId++;
  /** Activations running in it now. */
  active = 0;
  /** Epoch ms when it last finished an activation. */
  lastUsedMs = Date.now();
  /** Activations it has served (0 while cold). */
  served = 0;
  /** Set once `/init` was sent: its outcome, shared by concurrent activations. */
  init: Promise<ProxyReply> | undefined;
  private exited = false;
  private readonly events = new EventEmitter();
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private readonly pending: Record<Stream, LogLine[]> = { stdout: [], stderr: [] };
  private readonly sealed: Record<Stream, LogLine[][]> = { stdout: [], stderr: [] };
  private readonly streamsOpen = new Set<Stream>(["stdout", "stderr"]);

  private constructor(
    /** The action code it runs (`path@version`). */
    readonly key: string,
    /** Activations it may run at once (the action's concurrency limit). */
    readonly concurrency: number,
    private readonly child: ChildProcess,
    private readonly port: number,
  ) {
    this.events.setMaxListeners(0);
    child.once("exit", () => {
      this.exited = true;
      this.events.emit("change");
      this.events.emit("exit");
    });
    for (const stream of ["stdout", "stderr"] as const) this.capture(stream);
  }

  /**
   * Start a proxy process and wait until its port accepts connections.
   * @param spec - how to start it
   * @param key - the action code it will run
   * @param concurrency - activations it may run at once
   * @param memoryMb - the action's memory limit, applied as the V8 heap limit
   * @returns the ready container
   * @throws Error when the process does not come up (after a few attempts on fresh ports)
   */
  static async start(spec: ContainerSpec, key: string, concurrency: number, memoryMb: number): Promise<Container> {
    let lastError = "";
    for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
      const port = await reservePort();
      const args = [`--import=${WATCHDOG}`, `--max-old-space-size=${memoryMb}`, spec.proxyPath];
      // The proxy unpacks the action into its TMPDIR; it is SIGKILLed, so the emulator removes the folder.
      const tmp = mkdtempSync(path.join(spec.env["TMPDIR"] ?? tmpdir(), "tswren-ow-container-"));
      const child = spawn(process.execPath, args, { env: { ...spec.env, PORT: String(port), TMPDIR: tmp }, stdio: "pipe" });
      const container = new Container(key, concurrency, child, port);
      child.once("exit", () => {
        reservedPorts.delete(port);
        rmSync(tmp, { recursive: true, force: true });
      });
      child.on("error", () => undefined); // surfaces as an exit below
      if (await container.waitForPort()) return container;
      lastError = container.pending.stderr.map((l) => l.text).join("\n").slice(-2000);
      await container.kill();
    }
    throw new Error(`the action proxy ${spec.proxyPath} did not start: ${lastError || "no output"}`);
  }

  /** The process id, for diagnostics. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** True once the process has exited. */
  get dead(): boolean {
    return this.exited;
  }

  /**
   * POST a JSON body to the proxy. A request that fails on a reused keep-alive socket the proxy
   * had just closed (ECONNRESET before any answer) is sent once more on a new connection: the
   * proxy never saw it, so this cannot run an activation twice.
   * @param path - `/init` or `/run`
   * @param body - the JSON body
   * @param timeoutMs - how long to wait for the whole answer
   * @returns status and body text
   * @throws ContainerRequestError on timeout or a broken connection
   */
  async post(path: string, body: unknown, timeoutMs: number): Promise<ProxyReply> {
    const payload = JSON.stringify(body);
    const deadline = Date.now() + timeoutMs;
    try {
      return await this.send(path, payload, timeoutMs);
    } catch (err) {
      if (!(err instanceof StaleSocketError)) throw err;
      return this.send(path, payload, Math.max(1, deadline - Date.now()));
    }
  }

  private send(path: string, payload: string, timeoutMs: number): Promise<ProxyReply> {
    return new Promise((resolve, reject) => {
      let answered = false;
      const req = request(
        { host: "127.0.0.1", port: this.port, path, method: "POST", agent: this.agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } },
        (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
          });
          res.on("error", (err) => fail(new ContainerRequestError("connection", err.message)));
        },
      );
      const fail = (err: Error): void => {
        clearTimeout(timer);
        req.destroy();
        reject(err);
      };
      const timer = setTimeout(() => fail(new ContainerRequestError("timeout", `no answer in ${timeoutMs} ms`)), timeoutMs);
      req.on("error", (err: NodeJS.ErrnoException) => {
        const stale = req.reusedSocket && !answered && err.code === "ECONNRESET";
        fail(stale ? new StaleSocketError(err.message) : new ContainerRequestError("connection", err.message));
      });
      req.end(payload);
    });
  }

  /**
   * Take the log lines of the activation that just ended: up to the next end marker on stdout and
   * on stderr, waiting at most `waitMs` for them (or until the process has exited and its pipes
   * drained). Without markers, whatever was printed is returned, marked incomplete.
   * @param waitMs - the bound on waiting for the markers
   * @param limitBytes - the action's log limit; longer logs are cut with OpenWhisk's notice
   * @returns the lines, formatted `<ISO time> <stream>: <text>`, and whether both markers came
   */
  async collectLogs(waitMs: number, limitBytes: number): Promise<CollectedLogs> {
    const ready = (): boolean =>
      (this.sealed.stdout.length > 0 && this.sealed.stderr.length > 0) || (this.exited && this.streamsOpen.size === 0);
    await this.until(ready, waitMs);
    const complete = this.sealed.stdout.length > 0 && this.sealed.stderr.length > 0;
    const take = (stream: Stream): LogLine[] => this.sealed[stream].shift() ?? this.pending[stream].splice(0);
    const lines = [...take("stdout"), ...take("stderr")].sort((a, b) => a.atMs - b.atMs);
    return { lines: formatLines(lines, limitBytes), complete };
  }

  /**
   * Kill the process (SIGKILL) and wait for it to exit.
   * @returns when it has exited
   */
  async kill(): Promise<void> {
    this.agent.destroy();
    if (this.exited) return;
    const exit = once(this.events, "exit");
    this.child.kill("SIGKILL");
    await exit;
  }

  /**
   * Resolve when the process exits (already exited: at once).
   * @returns when it has exited
   */
  async exitedPromise(): Promise<void> {
    if (!this.exited) await once(this.events, "exit");
  }

  private capture(stream: Stream): void {
    const source = this.child[stream];
    if (!source) return;
    const lines = createInterface({ input: source, crlfDelay: Infinity });
    lines.on("line", (text) => {
      if (text.trim() === END_MARKER) this.sealed[stream].push(this.pending[stream].splice(0));
      else this.pending[stream].push({ atMs: Date.now(), stream, text });
      this.events.emit("change");
    });
    lines.once("close", () => {
      this.streamsOpen.delete(stream);
      this.events.emit("change");
    });
  }

  private async waitForPort(): Promise<boolean> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!this.exited && Date.now() < deadline) {
      if (await canConnect(this.port)) return true;
      await this.until(() => this.exited, 10);
    }
    return false;
  }

  /** Resolve when `condition` holds (re-checked on every output line or exit) or after `waitMs`. */
  private until(condition: () => boolean, waitMs: number): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = (): void => {
        if (!condition()) return;
        done();
      };
      const done = (): void => {
        clearTimeout(timer);
        this.events.off("change", check);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      this.events.on("change", check);
    });
  }
}

function formatLines(lines: LogLine[], limitBytes: number): string[] {
  const out: string[] = [];
  let bytes = 0;
  for (const line of lines) {
    const text = `${new Date(line.atMs).toISOString()} ${line.stream}: ${line.text}`;
    bytes += Buffer.byteLength(text);
    if (bytes > limitBytes) {
      out.push(`Logs were truncated because the total bytes size exceeds the limit of ${limitBytes} bytes.`);
      break;
    }
    out.push(text);
  }
  return out;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** A port that was free on 127.0.0.1 a moment ago, reserved against other containers. */
async function reservePort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (reservedPorts.has(port)) continue;
    reservedPorts.add(port); // released when the container's process exits
    return port;
  }
}

