/**
 * The `tswren` Jupyter kernel: stock tslab 1.0.22 (its own converter, executor and ZeroMQ server,
 * required from the pinned `tslab` dependency) with what tswren needs on top:
 * - `%%cloud` / `@cloud` cells (rewritten by {@link CellExecutor} before tslab compiles them);
 * - the {@link KernelHook}: full MIME bundles with display ids under the cell whose code made
 *   them (see cell-context.ts; also for displays and updates sent after that cell returned), and
 *   that cell's `AbortSignal`;
 * - `history_request` (tslab has no history);
 * - `interrupt_request` on the control channel (tslab only knows SIGINT) and a correct
 *   `comm_info_reply` (tslab answers with the wrong message type); both interrupts abort the
 *   cell's signal, which cancels the job the cell waits on.
 */
import { shareOwnPackages } from "./own-packages.js";
import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { ErrorCodes, TswrenError } from "../errors.js";
import { CellExecutor, type TslabExecutor } from "./cell-executor.js";
import { cellHelpers, closeNotebookExecutor } from "./cells.js";
import type { DisplayWriter } from "./cell-context.js";
import { setCellSources } from "../error-view/job-code.js";
import { CellHistory } from "./history.js";
import { installKernelHook } from "./kernel-hook.js";
import { printLastValue } from "./last-value.js";
import { CELLS_GLOBAL } from "./magic.js";
import { stopLiveDisplays } from "./notebook-progress.js";
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
  handleShutdown(sock: ZmqSocket, msg: TslabMessage): void;
  init(): Promise<void>;
  close(): void;
}

type Converter = { close(): void };

/** tslab's `JupyterHandlerImpl`: the part that runs one execute request (from its queue). */
interface TslabHandler {
  handleExecuteImpl(req: { code: string; store_history?: boolean }, writeStream: unknown, writeDisplayData: DisplayWriter): Promise<unknown>;
}

interface TslabModules {
  converter: { createConverter(options: { isJS: boolean; isBrowser: boolean }): Converter };
  executor: {
    createExecutor(rootDir: string, convs: { node: Converter; browser: Converter; close(): void }, console: { log(...a: unknown[]): void; error(...a: unknown[]): void }): TslabExecutor;
  };
  jupyter: {
    JupyterHandlerImpl: new (executor: TslabExecutor, isJs: boolean) => TslabHandler;
    ZmqServer: new (handler: unknown, configPath: string) => TslabServer;
  };
}

/** What an interrupted cell prints instead of tslab's stack trace of its internal error. */
const INTERRUPTED = "Interrupted: the cell was stopped (the kernel keeps its state)";
/** The same, when the interrupt cancelled a tswren job the cell waited on. */
const INTERRUPTED_JOB = "Interrupted: the cell was stopped; a tswren job it waited on was cancelled (the kernel keeps its state)";

/** tslab's error for a cell interrupted while it awaited (`tslab/dist/executor.js`). */
function isTslabInterrupt(value: unknown): boolean {
  return value instanceof Error && value.message === "Interrupted asynchronously";
}

/** The interrupt message of the cell the calling code belongs to. */
function interruptedMessage(cells: CellExecutor): string {
  return cells.contexts.current()?.cancelledWork === true ? INTERRUPTED_JOB : INTERRUPTED;
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

/** tslab's handler, running each execute request inside its cell's context and recording it in the history. */
function handlerClass(Base: TslabModules["jupyter"]["JupyterHandlerImpl"], cells: CellExecutor, history: CellHistory): new (executor: TslabExecutor, isJs: boolean) => TslabHandler {
  let count = 0;
  return class TswrenHandler extends Base {
    override handleExecuteImpl(req: { code: string; store_history?: boolean }, writeStream: unknown, writeDisplayData: DisplayWriter): Promise<unknown> {
      count++;
      if (req.store_history !== false) history.add(count, req.code);
      return cells.contexts.run(writeDisplayData, () => super.handleExecuteImpl(req, writeStream, writeDisplayData));
    }
  };
}

function serverClass(Base: TslabModules["jupyter"]["ZmqServer"], cells: CellExecutor, history: CellHistory): new (handler: unknown, configPath: string) => TslabServer {
  return class TswrenServer extends Base {
    override async handleShellMessage(sock: ZmqSocket, ...frames: Buffer[]): Promise<void> {
      let msg: JupyterMessage | null = null;
      try {
        msg = decodeMessage(this.connInfo.key, frames);
      } catch {
        // tslab reports malformed messages itself.
      }
      const type = msg?.header.msg_type;
      if (msg === null || (type !== "interrupt_request" && type !== "history_request")) return super.handleShellMessage(sock, ...frames);
      this.publish(msg, "busy");
      if (type === "history_request") this.send(sock, replyTo(msg, "history_reply", history.reply(msg.content)));
      else {
        cells.interrupt();
        this.send(sock, replyTo(msg, "interrupt_reply", { status: "ok" }));
      }
      this.publish(msg, "idle");
    }

    override handleCommInfoRequest(sock: ZmqSocket, msg: TslabMessage): void {
      const reply = msg.createReply();
      reply.header.msg_type = "comm_info_reply";
      reply.content = { status: "ok", comms: {} };
      reply.signAndSend(this.connInfo.key, sock);
    }

    /** A clean shutdown: live progress displays get a final update first. */
    override handleShutdown(sock: ZmqSocket, msg: TslabMessage): void {
      stopLiveDisplays("kernel shut down");
      super.handleShutdown(sock, msg);
    }

    override close(): void {
      super.close();
      const exit = setTimeout(() => process.exit(0), SHUTDOWN_WAIT_MS);
      void closeNotebookExecutor().finally(() => {
        clearTimeout(exit);
        process.exit(0);
      });
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
    log: (...args) => {
      printLastValue(args, {
        log: (text) => { console.log(text); },
        show: (text) => { cells.contexts.sendDisplay({ data: { "text/plain": text }, metadata: {}, transient: { display_id: randomBytes(8).toString("hex") } }, false); },
      });
    },
    error: (...args) => { console.error(...(isTslabInterrupt(args[0]) ? [interruptedMessage(cells)] : args)); },
  });
  const cells = new CellExecutor(inner, { error: (message) => { console.error(message); } });
  cells.contexts.routeTslabDisplays(tslab.jupyter);
  const history = new CellHistory();
  setCellSources(() => history.sources());
  const Handler = handlerClass(tslab.jupyter.JupyterHandlerImpl, cells, history);
  const Server = serverClass(tslab.jupyter.ZmqServer, cells, history);
  const server = new Server(new Handler(cells, false), configPath);
  installKernelHook({ sendDisplay: (content, update) => { cells.contexts.sendDisplay(content, update); }, cellSignal: () => cells.cellSignal() });
  (globalThis as Record<string, unknown>)[CELLS_GLOBAL] = cellHelpers;
  // Registered at start, never while a cell runs (see docs/notebook.md: that would make the
  // next interrupt kill the kernel).
  process.on("SIGINT", () => { cells.interrupt(); });
  process.on("uncaughtException", (err) => { console.error("UncaughtException:", err); });
  process.on("unhandledRejection", (reason) => { console.error("UnhandledPromiseRejection:", reason); });
  await server.init();
}
