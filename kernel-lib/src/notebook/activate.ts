/**
 * Notebook mode, decided on every wait: inside a notebook (the tswren kernel, or stock tslab
 * while a cell runs) progress goes to live displays; elsewhere the terminal bar stays.
 */
import type { ResponseFuture } from "../future.js";
import { setProgressFactory, terminalProgressFor, type ProgressDisplay } from "../progress/progress.js";
import { notebookSink } from "./display.js";
import { NotebookProgress } from "./notebook-progress.js";

/** The progress display for a wait: notebook displays when in a notebook, else the terminal's. */
export function notebookOrTerminalProgress(futures: readonly ResponseFuture[]): ProgressDisplay {
  if (futures.length === 0) return terminalProgressFor(futures);
  const sink = notebookSink();
  return sink ? new NotebookProgress(sink, futures) : terminalProgressFor(futures);
}

/** Plug notebook progress in (done once when the library is imported). */
export function installNotebookProgress(): void {
  setProgressFactory(notebookOrTerminalProgress);
}
