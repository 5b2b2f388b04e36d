/**
 * The `tswren` kernel's executor: tslab's own executor with `%%cloud` cells rewritten before
 * tslab compiles them (completions and inspection mapped to the user's text), and a per-cell
 * `AbortSignal` that an interrupt aborts (see {@link KernelHook.cellSignal}; the cells' contexts
 * live in {@link CellContexts}).
 */
import { TswrenError } from "../errors.js";
import { CellContexts } from "./cell-context.js";
import { rewriteCell, type RewrittenCell } from "./magic.js";

/** tslab's completion answer (`tslab/dist/converter.d.ts`). */
export interface TslabCompletion {
  start: number;
  end: number;
  candidates: string[];
  original?: unknown;
}

/** The parts of tslab's `Executor` (`tslab/dist/executor.d.ts`) the kernel uses and provides. */
export interface TslabExecutor {
  execute(src: string): Promise<boolean>;
  inspect(src: string, position: number): unknown;
  complete(src: string, position: number): TslabCompletion;
  reset(): void;
  interrupt(): void;
  locals: Record<string, unknown>;
  close(): void;
}

/** Where the executor reports errors (tslab's console: stdout/stderr of the running cell). */
export interface ErrorSink {
  error(message: string): void;
}

/** tslab's executor plus cell magics and cell cancellation. */
export class CellExecutor implements TslabExecutor {
  private readonly inner: TslabExecutor;
  private readonly sink: ErrorSink;
  /** Which cell code belongs to (the kernel runs each execute request in one). */
  readonly contexts: CellContexts;

  /**
   * @param inner - tslab's executor (`createExecutor` of `tslab/dist/executor.js`)
   * @param sink - where a bad magic line is reported
   * @param contexts - the kernel's cell contexts (a new set by default)
   */
  constructor(inner: TslabExecutor, sink: ErrorSink, contexts = new CellContexts()) {
    this.inner = inner;
    this.sink = sink;
    this.contexts = contexts;
  }

  get locals(): Record<string, unknown> {
    return this.inner.locals;
  }

  /** The signal of the cell the calling code belongs to, or undefined outside cells. */
  cellSignal(): AbortSignal | undefined {
    return this.contexts.signal();
  }

  async execute(src: string): Promise<boolean> {
    let code = src;
    try {
      code = rewriteCell(src)?.code ?? src;
    } catch (err) {
      if (!(err instanceof TswrenError)) throw err;
      this.sink.error(`${err.code}: ${err.message}`);
      return false;
    }
    return this.inner.execute(code);
  }

  inspect(src: string, position: number): unknown {
    const cell = this.tryRewrite(src);
    return this.inner.inspect(cell?.code ?? src, cell ? cell.toRewritten(position) : position);
  }

  complete(src: string, position: number): TslabCompletion {
    const cell = this.tryRewrite(src);
    if (cell === null) return this.inner.complete(src, position);
    const info = this.inner.complete(cell.code, cell.toRewritten(position));
    return { ...info, start: cell.toOriginal(info.start), end: cell.toOriginal(info.end) };
  }

  /**
   * Interrupt the executing cell: abort its signal (cancelling only the jobs that cell waits on),
   * then tslab's own interrupt.
   */
  interrupt(): void {
    this.contexts.interrupt();
    this.inner.interrupt();
  }

  reset(): void {
    this.inner.reset();
  }

  close(): void {
    this.inner.close();
  }

  private tryRewrite(src: string): RewrittenCell | null {
    try {
      return rewriteCell(src);
    } catch {
      return null;
    }
  }
}
