/**
 * Which cell a piece of code belongs to, in the `tswren` kernel. tslab runs one execute request
 * at a time but many may have *arrived* (Run All), and output made after a cell's code returned
 * (timers, callbacks, progress updates of a job still running) would otherwise go to whichever
 * request tslab runs then. Each cell runs inside an `AsyncLocalStorage` context holding the
 * writer bound to its own `execute_request`; everything the cell's code starts (promises,
 * timers, callbacks) inherits that context. A display is owned by the cell that created it:
 * its updates go under that cell's request whoever sends them.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { getEventListeners } from "node:events";
import { ErrorCodes, TswrenError } from "../errors.js";
import type { DisplayContent } from "./kernel-hook.js";

/** Sends a `display_data` (`update` false) or `update_display_data` under one execute request. */
export type DisplayWriter = (content: DisplayContent, update: boolean) => void;

/** One execution of a cell. */
export interface CellRun {
  /** Sends displays under the cell's `execute_request`. */
  readonly write: DisplayWriter;
  /** Aborted when the user interrupts the cell while it runs. */
  readonly controller: AbortController;
  /** True when an interrupt of this cell cancelled a tswren wait or submission. */
  cancelledWork: boolean;
}

/** How many display owners are remembered (the oldest are forgotten first). */
const MAX_OWNERS = 10_000;

/** The cell contexts of one kernel. */
export class CellContexts {
  private readonly storage = new AsyncLocalStorage<CellRun>();
  private readonly owners = new Map<string, DisplayWriter>();
  private executing: CellRun | null = null;

  /**
   * Run one cell's execution inside its context.
   * @param write - sends displays under the cell's execute request (tslab's `writeDisplayData`)
   * @param body - runs the cell (tslab's `handleExecuteImpl`)
   */
  async run<T>(write: DisplayWriter, body: () => Promise<T>): Promise<T> {
    const run: CellRun = { write, controller: new AbortController(), cancelledWork: false };
    this.executing = run;
    try {
      return await this.storage.run(run, body);
    } finally {
      if (this.executing === run) this.executing = null;
    }
  }

  /** The cell the calling code belongs to (its context), else the executing cell, else undefined. */
  current(): CellRun | undefined {
    return this.storage.getStore() ?? this.executing ?? undefined;
  }

  /** The abort signal of the cell the calling code belongs to (undefined outside cells). */
  signal(): AbortSignal | undefined {
    return this.storage.getStore()?.controller.signal;
  }

  /**
   * Interrupt the executing cell: abort its signal, which cancels only the tswren waits and
   * submissions made in that cell (jobs of other cells keep running).
   * @returns true when a wait or submission of the cell was listening (so work was cancelled)
   */
  interrupt(): boolean {
    const run = this.executing;
    if (run === null || run.controller.signal.aborted) return false;
    run.cancelledWork = getEventListeners(run.controller.signal, "abort").length > 0;
    run.controller.abort(new TswrenError(ErrorCodes.CANCELLED, "the cell was interrupted"));
    return run.cancelledWork;
  }

  /**
   * Send a display: a new one under the calling code's cell (which then owns that display id);
   * an update under the cell that owns the display id.
   */
  sendDisplay(content: DisplayContent, update: boolean): void {
    const id = (content.transient as Partial<DisplayContent["transient"]> | undefined)?.display_id;
    const write = (update && id !== undefined ? this.owners.get(id) : undefined) ?? this.current()?.write;
    if (write === undefined) return;
    if (id !== undefined && (!update || !this.owners.has(id))) this.own(id, write);
    write(content, update);
  }

  /**
   * Route tslab's own displays (`tslab.display.*`, `tslab.newDisplay()`) through
   * {@link sendDisplay}: tslab sends them with `lastWriteDisplayData`, the writer of the request
   * executing at the time; this makes that property always answer with the routed writer.
   * @param jupyterModule - the kernel's `tslab/dist/jupyter.js` exports
   */
  routeTslabDisplays(jupyterModule: object): void {
    const routed: DisplayWriter = (content, update) => { this.sendDisplay(content, update); };
    Object.defineProperty(jupyterModule, "lastWriteDisplayData", { configurable: true, enumerable: true, get: () => routed, set: () => undefined });
  }

  private own(displayId: string, write: DisplayWriter): void {
    this.owners.delete(displayId);
    this.owners.set(displayId, write);
    if (this.owners.size > MAX_OWNERS) this.owners.delete(this.owners.keys().next().value as string);
  }
}
