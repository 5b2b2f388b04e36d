/**
 * The contract between the library and the `tswren` wrapper kernel. The kernel installs one
 * {@link KernelHook} on `globalThis.__tswrenKernel` before it runs any cell; the library's
 * notebook display and cancellation use it when present, and fall back to stock tslab (or the
 * terminal) when it is not.
 */

/** A Jupyter `display_data` / `update_display_data` content. */
export interface DisplayContent {
  /** MIME bundle: every representation of the output, e.g. `text/html` and `text/plain`. */
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  transient: { display_id: string };
}

/** What the tswren kernel offers the library. */
export interface KernelHook {
  /**
   * Send a display message on IOPub under the running cell's parent header:
   * `display_data` when `update` is false, `update_display_data` when true.
   */
  sendDisplay(content: DisplayContent, update: boolean): void;
  /**
   * The running cell's abort signal: aborted when the user interrupts the cell (the job the cell
   * waits on is then cancelled). Undefined outside a cell.
   */
  cellSignal(): AbortSignal | undefined;
}

const KEY = "__tswrenKernel";

/** The running tswren kernel's hook, or undefined (stock tslab, plain Node). */
export function kernelHook(): KernelHook | undefined {
  return (globalThis as Record<string, unknown>)[KEY] as KernelHook | undefined;
}

/** Install the hook (the kernel does this once at start). */
export function installKernelHook(hook: KernelHook): void {
  (globalThis as Record<string, unknown>)[KEY] = hook;
}
