/**
 * A Jupyter wire-protocol client for tests (messaging 5.3, HMAC-SHA256, zeromq 6): starts a
 * kernel process on a temporary connection file with free 127.0.0.1 ports, then talks to it like
 * Jupyter does. Reusable for any kernel (`argv`), by default the `tswren` kernel of this repo.
 *
 * ```ts
 * const kernel = await startKernel({ cwd: dir });
 * try {
 *   const run = await kernel.execute("1 + 1");
 *   expect(run.reply.content["status"]).toBe("ok");
 *   expect(run.stdout).toContain("2");
 * } finally {
 *   await kernel.shutdown();           // always ends the process (SIGKILL if it does not exit)
 * }
 * ```
 *
 * `execute` resolves once the `execute_reply` and the IOPub `idle` status of the request both
 * arrived, with every IOPub message of that request. `startExecute` returns at once (to interrupt
 * a running cell); `request` sends any shell or control request and resolves with its reply.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as zmq from "zeromq";
import { kernelSpec } from "../../kernel-lib/src/notebook/kernelspec.js";
import { decodeMessage, encodeMessage, newHeader, type JupyterMessage } from "../../kernel-lib/src/notebook/wire.js";
import { freePort } from "./ports.js";

export type { JupyterMessage } from "../../kernel-lib/src/notebook/wire.js";

/** What one `execute_request` produced. */
export interface ExecuteResult {
  /** The `execute_reply` (`content.status` is `ok`, `error` or `abort`). */
  reply: JupyterMessage;
  /** Every IOPub message of the request, in arrival order (status, stream, display_data, ...). */
  iopub: JupyterMessage[];
  /** Text of the `stdout` stream messages. */
  stdout: string;
  /** Text of the `stderr` stream messages. */
  stderr: string;
}

/** An execute request in flight. */
export interface RunningExecute {
  msgId: string;
  /** Resolves like {@link KernelClient.execute}. */
  done: Promise<ExecuteResult>;
}

/** A running kernel and a connected client. */
export interface KernelClient {
  readonly process: ChildProcess;
  /** Run `code` and wait until the kernel is idle again. */
  execute(code: string): Promise<ExecuteResult>;
  /** Send an execute request and return at once. */
  startExecute(code: string): RunningExecute;
  /** Send a request on the shell or control channel; resolves with its reply. */
  request(channel: "shell" | "control", msgType: string, content?: Record<string, unknown>): Promise<JupyterMessage>;
  /** Resolves with the first IOPub message (already received or coming) that matches. */
  waitForIopub(match: (msg: JupyterMessage) => boolean): Promise<JupyterMessage>;
  /** Every IOPub message received so far, in arrival order. */
  iopubMessages(): readonly JupyterMessage[];
  /** What the kernel process wrote to its own stdout / stderr (outside cells). */
  output(): string;
  /** Ask the kernel to shut down, wait for the process to exit (kill it after a while), close sockets. */
  shutdown(): Promise<void>;
}

/** Options of {@link startKernel}. */
export interface StartKernelOptions {
  /** Working directory of the kernel (the notebook folder). */
  cwd?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Command and arguments; `{connection_file}` is replaced (default: the argv of this repo's tswren kernelspec). */
  argv?: string[];
  /** How long to wait for the kernel to answer `kernel_info_request` (default 60 s). */
  readyTimeoutMs?: number;
  /** Start the kernel as the leader of its own process group (as Jupyter does), so a test can signal the group. */
  detached?: boolean;
}

const EXIT_WAIT_MS = 10_000;

interface Waiter {
  match: (msg: JupyterMessage) => boolean;
  resolve: (msg: JupyterMessage) => void;
  reject: (err: Error) => void;
}

/** Messages received on one socket, and who waits for which. */
class Inbox {
  readonly messages: JupyterMessage[] = [];
  private waiters: Waiter[] = [];
  private failure: Error | null = null;

  push(msg: JupyterMessage): void {
    this.messages.push(msg);
    const [hit, rest] = [this.waiters.filter((w) => w.match(msg)), this.waiters.filter((w) => !w.match(msg))];
    this.waiters = rest;
    for (const w of hit) w.resolve(msg);
  }

  wait(match: (msg: JupyterMessage) => boolean): Promise<JupyterMessage> {
    const found = this.messages.find(match);
    if (found !== undefined) return Promise.resolve(found);
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiters.push({ match, resolve, reject });
    });
  }

  /** Reject every wait, now and later (the kernel is gone). */
  fail(err: Error): void {
    this.failure = err;
    for (const w of this.waiters) w.reject(err);
    this.waiters = [];
  }
}

async function receiveLoop(socket: zmq.Dealer | zmq.Subscriber, key: string, inbox: Inbox): Promise<void> {
  try {
    for await (const frames of socket) inbox.push(decodeMessage(key, frames));
  } catch {
    // socket closed
  }
}

async function writeConnectionFile(dir: string): Promise<{ file: string; key: string; ports: Record<string, number> }> {
  const names = ["shell_port", "iopub_port", "stdin_port", "control_port", "hb_port"];
  const ports: Record<string, number> = {};
  for (const n of names) ports[n] = await freePort();
  const key = randomBytes(16).toString("hex");
  const file = join(dir, "connection.json");
  writeFileSync(file, JSON.stringify({ ...ports, ip: "127.0.0.1", transport: "tcp", key, signature_scheme: "hmac-sha256", kernel_name: "tswren" }));
  return { file, key, ports };
}

type Inboxes = { shell: Inbox; control: Inbox; iopub: Inbox };

/** The kernel's process, with its output collected. */
function spawnKernel(argv: string[], options: StartKernelOptions): { child: ChildProcess & { stdout: NonNullable<ChildProcess["stdout"]> }; exited: Promise<void>; output: () => string } {
  const child = spawn(argv[0], argv.slice(1), { cwd: options.cwd ?? process.cwd(), env: { ...process.env, ...options.env }, stdio: ["ignore", "pipe", "pipe"], detached: options.detached === true });
  let output = "";
  child.stdout.on("data", (d: Buffer) => { output += d.toString(); });
  child.stderr.on("data", (d: Buffer) => { output += d.toString(); });
  const exited = new Promise<void>((resolve) => { child.once("exit", () => { resolve(); }); });
  return { child, exited, output: () => output };
}

/** Shell, control and IOPub sockets connected to the kernel's ports, each feeding its inbox. */
function connectChannels(ports: Record<string, number>, key: string): { shell: zmq.Dealer; control: zmq.Dealer; iopub: zmq.Subscriber; inboxes: Inboxes } {
  const shell = new zmq.Dealer();
  const control = new zmq.Dealer();
  const iopub = new zmq.Subscriber();
  iopub.subscribe();
  const addr = (port: number | undefined): string => `tcp://127.0.0.1:${String(port)}`;
  shell.connect(addr(ports["shell_port"]));
  control.connect(addr(ports["control_port"]));
  iopub.connect(addr(ports["iopub_port"]));
  const inboxes = { shell: new Inbox(), control: new Inbox(), iopub: new Inbox() };
  void receiveLoop(shell, key, inboxes.shell);
  void receiveLoop(control, key, inboxes.control);
  void receiveLoop(iopub, key, inboxes.iopub);
  return { shell, control, iopub, inboxes };
}

/** `startExecute` of a client: sends an execute_request and collects its reply and IOPub output. */
function executor(send: (channel: "shell", msgType: string, content: Record<string, unknown>) => string, inboxes: Inboxes): (code: string) => RunningExecute {
  return (code) => {
    const msgId = send("shell", "execute_request", { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true });
    const ofRequest = (m: JupyterMessage): boolean => m.parent_header.msg_id === msgId;
    const done = Promise.all([
      inboxes.shell.wait(ofRequest),
      inboxes.iopub.wait((m) => ofRequest(m) && m.header.msg_type === "status" && m.content["execution_state"] === "idle"),
    ]).then(([reply]) => {
      const iopubMessages = inboxes.iopub.messages.filter(ofRequest);
      const stream = (name: string): string => iopubMessages.filter((m) => m.header.msg_type === "stream" && m.content["name"] === name).map((m) => String(m.content["text"])).join("");
      return { reply, iopub: iopubMessages, stdout: stream("stdout"), stderr: stream("stderr") };
    });
    return { msgId, done };
  };
}

/**
 * Start a kernel process and connect to it; resolves once it answered `kernel_info_request`
 * and IOPub delivers its messages.
 * @throws Error with the kernel's output when it does not come up
 */
export async function startKernel(options: StartKernelOptions = {}): Promise<KernelClient> {
  const dir = mkdtempSync(join(tmpdir(), "tswren-kernel-"));
  const { file, key, ports } = await writeConnectionFile(dir);
  const argv = (options.argv ?? kernelSpec().argv).map((a) => a.replace("{connection_file}", file));
  const { child, exited, output } = spawnKernel(argv, options);
  const session = randomUUID();
  const { shell, control, iopub, inboxes } = connectChannels(ports, key);
  void exited.then(() => {
    const err = new Error(`the kernel process exited (code ${String(child.exitCode)}, signal ${String(child.signalCode)}); its output:\n${output()}`);
    for (const inbox of Object.values(inboxes)) inbox.fail(err);
  });

  const send = (channel: "shell" | "control", msgType: string, content: Record<string, unknown>): string => {
    const header = newHeader(msgType, session, "test");
    const socket = channel === "shell" ? shell : control;
    void socket.send(encodeMessage(key, { header, parent_header: {}, metadata: {}, content }));
    return header.msg_id;
  };
  const request = (channel: "shell" | "control", msgType: string, content: Record<string, unknown> = {}): Promise<JupyterMessage> => {
    const id = send(channel, msgType, content);
    return inboxes[channel].wait((m) => m.parent_header.msg_id === id);
  };
  const startExecute = executor(send, inboxes);

  let closed = false;
  const shutdown = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    if (child.exitCode === null && child.signalCode === null) {
      send("control", "shutdown_request", { restart: false });
      const timer = setTimeout(() => child.kill("SIGKILL"), EXIT_WAIT_MS);
      await exited;
      clearTimeout(timer);
    }
    shell.close();
    control.close();
    iopub.close();
    rmSync(dir, { recursive: true, force: true });
  };

  const client: KernelClient = {
    process: child,
    execute: (code) => startExecute(code).done,
    startExecute,
    request,
    waitForIopub: (match) => inboxes.iopub.wait(match),
    iopubMessages: () => [...inboxes.iopub.messages],
    output,
    shutdown,
  };
  try {
    await waitReady(client, inboxes.iopub, options.readyTimeoutMs ?? 60_000);
  } catch (err) {
    await shutdown();
    throw err;
  }
  return client;
}

/**
 * Send `kernel_info_request` until one is answered and its IOPub status arrived (a new
 * subscriber misses what was published before it joined).
 */
async function waitReady(client: KernelClient, iopub: Inbox, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = await client.request("shell", "kernel_info_request");
    const id = reply.parent_header.msg_id;
    const seen = await Promise.race([
      iopub.wait((m) => m.parent_header.msg_id === id).then(() => true),
      new Promise<false>((resolve) => { setTimeout(() => { resolve(false); }, 500).unref(); }),
    ]);
    if (seen) return;
    if (Date.now() > deadline) throw new Error(`the kernel did not publish on IOPub within ${timeoutMs} ms; its output:\n${client.output()}`);
  }
}
