/**
 * The `tswren` Jupyter kernel: stock tslab 1.0.22 (its own converter, executor and ZeroMQ server,
 * required from the pinned `tslab` dependency) with what tswren needs on top:
 * - `%%cloud` / `@cloud` cells (rewritten by {@link CellExecutor} before tslab compiles them);
 * - the {@link KernelHook}: full MIME bundles with display ids under the running cell, and the
 *   running cell's `AbortSignal`;
 * - `interrupt_request` on the control channel (tslab only knows SIGINT) and a correct
 *   `comm_info_reply` (tslab answers with the wrong message type); both interrupts abort the
 *   cell's signal, which cancels the job the cell waits on.
 */
import { shareOwnPackages } from "./own-packages.js";
import { createRequire } from "node:module";
import { ErrorCodes, TswrenError } from "../errors.js";
import { CellExecutor, type TslabExecutor } from "./cell-executor.js";
import { cellHelpers, closeNotebookExecutor } from "./cells.js";
import { installKernelHook, type DisplayContent } from "./kernel-hook.js";
import { CELLS_GLOBAL } from "./magic.js";
import { decodeMessage, encodeMessage, replyTo, type JupyterMessage, type MessageHeader } from "./wire.js";

/** A ZeroMQ socket as tslab's server holds it. */
interface ZmqSocket {
  send(frames: Array<Buffer | string>): Promise<void>;
}

/** tslab's internal `ZmqMessage` (`tslab/dist/jupyter.js`). */
interface TslabMessage {
  header: MessageHeader;
  content: unknown;
  createReply(): TslabMessage;
  signAndSend(key: string, sock: ZmqSocket): void;
}

/** The parts of tslab's `ZmqServer` the kernel extends. */
interface TslabServer {
  connInfo: { key: string };
  iopub: ZmqSocket;
  handleShellMessage(sock: ZmqSocket, ...frames: Buffer[]): Promise<void>;
  handleExecute(sock: ZmqSocket, msg: TslabMessage): Promise<void>;
  handleCommInfoRequest(sock: ZmqSocket, msg: TslabMessage): void;
  init(): Promise<void>;
  close(): void;
}

type Converter = { close(): void };

interface TslabModules {
  converter: { createConverter(options: { isJS: boolean; isBrowser: boolean }): Converter };
  executor: {
    createExecutor(rootDir: string, convs: { node: Converter; browser: Converter; close(): void }, console: { log(...a: unknown[]): void; error(...a: unknown[]): void }): TslabExecutor;
  };
  jupyter: {
    JupyterHandlerImpl: new (executor: TslabExecutor, isJs: boolean) => unknown;
    ZmqServer: new (handler: unknown, configPath: string) => TslabServer;
  };
}

/** What an interrupted cell prints instead of tslab's stack trace of its internal error. */
const INTERRUPTED = "Interrupted: the cell was stopped (a tswren job it waited on was cancelled; the kernel keeps its state)";

/** tslab's error for a cell interrupted while it awaited (`tslab/dist/executor.js`). */
function isTslabInterrupt(value: unknown): boolean {
  return value instanceof Error && value.message === "Interrupted asynchronously";
}

/** How long shutting down may wait for the default executor to release its workers. */
const SHUTDOWN_WAIT_MS = 5_000;

function loadTslab(): TslabModules {
  const req = createRequire(import.meta.url);
  return {
    converter: req("tslab/dist/converter.js") as TslabModules["converter"],
    executor: req("tslab/dist/executor.js") as TslabModules["executor"],
    jupyter: req("tslab/dist/jupyter.js") as TslabModules["jupyter"],
  };
}

/** tslab's converters, created on first use like tslab's own `ConverterSetImpl`. */
function converterSet(tslab: TslabModules): { node: Converter; browser: Converter; close(): void } {
  let node: Converter | undefined;
  let browser: Converter | undefined;
  return {
    get node() { return (node ??= tslab.converter.createConverter({ isJS: false, isBrowser: false })); },
    get browser() { return (browser ??= tslab.converter.createConverter({ isJS: false, isBrowser: true })); },
    close() { node?.close(); browser?.close(); },
  };
}

function serverClass(Base: TslabModules["jupyter"]["ZmqServer"], cells: CellExecutor): new (handler: unknown, configPath: string) => TslabServer & { sendDisplay(content: DisplayContent, update: boolean): void } {
  return class TswrenServer extends Base {
    /** The running (or latest) execute request: displays are sent under its header. */
    private latest: TslabMessage | null = null;

    override async handleShellMessage(sock: ZmqSocket, ...frames: Buffer[]): Promise<void> {
      let msg: JupyterMessage | null = null;
      try {
        msg = decodeMessage(this.connInfo.key, frames);
      } catch {
        // tslab reports malformed messages itself.
      }
      if (msg?.header.msg_type !== "interrupt_request") return super.handleShellMessage(sock, ...frames);
      this.publish(msg, "busy");
      cells.interrupt();
      this.send(sock, replyTo(msg, "interrupt_reply", { status: "ok" }));
      this.publish(msg, "idle");
    }

    override async handleExecute(sock: ZmqSocket, msg: TslabMessage): Promise<void> {
      this.latest = msg;
      await super.handleExecute(sock, msg);
    }

    override handleCommInfoRequest(sock: ZmqSocket, msg: TslabMessage): void {
      const reply = msg.createReply();
      reply.header.msg_type = "comm_info_reply";
      reply.content = { status: "ok", comms: {} };
      reply.signAndSend(this.connInfo.key, sock);
    }

    override close(): void {
      super.close();
      const exit = setTimeout(() => process.exit(0), SHUTDOWN_WAIT_MS);
      void closeNotebookExecutor().finally(() => {
        clearTimeout(exit);
        process.exit(0);
      });
    }

    /** `display_data` / `update_display_data` with the whole bundle, under the latest execute request. */
    sendDisplay(content: DisplayContent, update: boolean): void {
      if (this.latest === null) return;
      const reply = this.latest.createReply();
      reply.header.msg_type = update ? "update_display_data" : "display_data";
      reply.content = content;
      reply.signAndSend(this.connInfo.key, this.iopub);
    }

    private publish(parent: JupyterMessage, state: "busy" | "idle"): void {
      this.send(this.iopub, replyTo(parent, "status", { execution_state: state }, false));
    }

    private send(sock: ZmqSocket, msg: JupyterMessage): void {
      sock.send(encodeMessage(this.connInfo.key, msg)).catch((err: unknown) => { console.error("tswren kernel: send failed:", err); });
    }
  };
}

/**
 * Start the kernel on the sockets of a Jupyter connection file; resolves once it listens.
 * @param configPath - the connection file Jupyter passes as `{connection_file}`
 * @throws TswrenError `TSWREN_BAD_INPUT` without a connection file
 */
export async function startKernel(configPath: string): Promise<void> {
  if (!configPath) throw new TswrenError(ErrorCodes.BAD_INPUT, "tswren kernel needs --config-path <connection file> (Jupyter passes it; run `tswren kernel install` to register the kernel)");
  shareOwnPackages(process.cwd());
  const tslab = loadTslab();
  const inner = tslab.executor.createExecutor(process.cwd(), converterSet(tslab), {
    log: (...args) => { console.log(...args); },
    error: (...args) => { console.error(...(isTslabInterrupt(args[0]) ? [INTERRUPTED] : args)); },
  });
  const cells = new CellExecutor(inner, { error: (message) => { console.error(message); } });
  const Server = serverClass(tslab.jupyter.ZmqServer, cells);
  const server = new Server(new tslab.jupyter.JupyterHandlerImpl(cells, false), configPath);
  installKernelHook({ sendDisplay: (content, update) => { server.sendDisplay(content, update); }, cellSignal: () => cells.cellSignal() });
  (globalThis as Record<string, unknown>)[CELLS_GLOBAL] = cellHelpers;
  // Registered at start, never while a cell runs (see docs/notebook.md: that would make the
  // next interrupt kill the kernel).
  process.on("SIGINT", () => { cells.interrupt(); });
  process.on("uncaughtException", (err) => { console.error("UncaughtException:", err); });
  process.on("unhandledRejection", (reason) => { console.error("UnhandledPromiseRejection:", reason); });
  await server.init();
}
