/**
 * The extension's front-end plugin (beside the MIME renderer): it watches the kernel status of
 * every open notebook and, when the kernel restarts or dies, marks the notebook's unfinished
 * tswren progress bars `stopped: kernel restarted` (or `kernel died`), in the page and in the
 * notebook's model, so the saved notebook says it too. A clean shutdown needs no help: the
 * kernel then sends each live bar's final update itself (`stopped: kernel shut down`).
 * `@jupyterlab/notebook` is a shared package: the running JupyterLab (or Notebook 7) provides it.
 */
import { INotebookTracker, type NotebookPanel } from "@jupyterlab/notebook";
import { stopOutputs, stopReason, type OutputsLike } from "./stop-outputs.js";

/** Mark the unfinished bars of every code cell of a notebook; returns how many were marked. */
export function stopNotebookBars(panel: NotebookPanel, reason: string): number {
  const cells = panel.model?.cells;
  if (cells === undefined) return 0;
  let count = 0;
  for (let i = 0; i < cells.length; i++) {
    const cell = cells.get(i);
    if (cell.type !== "code") continue;
    count += stopOutputs((cell as unknown as { outputs: OutputsLike }).outputs, reason);
  }
  return count;
}

/**
 * Follow one notebook's kernel status. A kernel that died and was restarted by the server is
 * reported as `restarting` and, a microtask later, `autorestarting`; a restart the user asked
 * for only as `restarting`. So the bars are marked on the next task, with the last reason seen.
 */
function watch(panel: NotebookPanel): void {
  let pending: string | undefined;
  panel.sessionContext.statusChanged.connect((_context, status) => {
    const reason = stopReason(status);
    if (reason === undefined) return;
    if (pending === undefined) {
      setTimeout(() => {
        const last = pending ?? reason;
        pending = undefined;
        stopNotebookBars(panel, last);
      }, 0);
    }
    pending = reason;
  });
}

/** The plugin JupyterLab loads (typed structurally: a Lumino plugin needing the notebook tracker). */
const plugin = {
  id: "@tswren/jupyterlab-progress:kernel-status",
  description: "Marks tswren progress bars stopped when a notebook's kernel restarts or dies.",
  autoStart: true,
  requires: [INotebookTracker],
  activate: (_app: unknown, tracker: INotebookTracker): void => {
    tracker.forEach(watch);
    tracker.widgetAdded.connect((_tracker, panel) => { watch(panel); });
  },
};

export default plugin;
