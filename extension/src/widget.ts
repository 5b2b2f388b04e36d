/**
 * The progress renderer: one widget per output, built once and updated in place by every
 * `renderModel` call (JupyterLab re-uses the instance for `update_display_data`).
 */
import type { IRenderMime } from "@jupyterlab/rendermime-interfaces";
import { Widget } from "@lumino/widgets";
import { PAYLOAD_VERSION, PROGRESS_MIME, formatElapsed, parsePayload } from "./payload.js";
import type { ReadPayload } from "./payload.js";

/** CSS class of the renderer's root node. */
export const ROOT_CLASS = "tswren-progress";

function el<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, parent: HTMLElement): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  parent.appendChild(node);
  return node;
}

/** The status at the bar's right: `41%`, `finished`, `finished, 2 failed, cancelled (3)`, `stopped: kernel restarted`. */
function statusText(p: ReadPayload, percent: number): string {
  if (p.stopped !== undefined) return `stopped: ${p.stopped}`;
  if (!p.finished) return `${percent}%`;
  const parts = ["finished", ...(p.failed > 0 ? [`${p.failed} failed`] : []), ...(p.cancelled > 0 ? [`cancelled (${p.cancelled})`] : [])];
  return parts.join(", ");
}

/** Renders `application/vnd.tswren.progress+json`. Holds no timers and no listeners. */
export class ProgressRenderer extends Widget implements IRenderMime.IRenderer {
  private readonly titleNode: HTMLElement;
  private readonly statusNode: HTMLElement;
  private readonly bar: HTMLElement;
  private readonly doneBar: HTMLElement;
  private readonly failedBar: HTMLElement;
  private readonly cancelledBar: HTMLElement;
  private readonly counts: HTMLElement;
  private readonly elapsed: HTMLElement;
  private readonly message: HTMLElement;

  constructor(private readonly mimeType: string = PROGRESS_MIME) {
    super();
    this.addClass(ROOT_CLASS);
    const head = el("div", "tswren-progress-head", this.node);
    this.titleNode = el("span", "tswren-progress-title", head);
    this.statusNode = el("span", "tswren-progress-status", head);
    this.bar = el("div", "tswren-progress-bar", this.node);
    this.bar.setAttribute("role", "progressbar");
    this.bar.setAttribute("aria-valuemin", "0");
    this.bar.setAttribute("aria-valuemax", "100");
    this.doneBar = el("div", "tswren-progress-done", this.bar);
    this.failedBar = el("div", "tswren-progress-failed", this.bar);
    this.cancelledBar = el("div", "tswren-progress-cancelled", this.bar);
    const foot = el("div", "tswren-progress-foot", this.node);
    this.counts = el("span", "tswren-progress-counts", foot);
    this.elapsed = el("span", "tswren-progress-elapsed", foot);
    this.message = el("div", "tswren-progress-message", this.node);
  }

  /** Show the model's payload; safe to call any number of times on the same instance. */
  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const parsed = parsePayload(model.data[this.mimeType]);
    if (parsed.ok) this.showPayload(parsed.payload);
    else this.showInvalid(parsed.reason, model.data["text/plain"]);
    return Promise.resolve();
  }

  private showPayload(p: ReadPayload): void {
    const settled = p.done + p.failed + p.cancelled;
    const percent = p.total === 0 ? (p.finished ? 100 : 0) : Math.floor((settled / p.total) * 100);
    this.node.classList.remove("tswren-progress-invalid");
    this.node.classList.toggle("tswren-progress-finished", p.finished);
    this.node.classList.toggle("tswren-progress-has-failed", p.failed > 0);
    this.node.classList.toggle("tswren-progress-has-cancelled", p.cancelled > 0);
    this.node.classList.toggle("tswren-progress-stopped", p.stopped !== undefined);
    this.node.dataset.done = String(p.done);
    this.node.dataset.failed = String(p.failed);
    this.node.dataset.cancelled = String(p.cancelled);
    this.node.dataset.total = String(p.total);
    this.node.dataset.finished = String(p.finished);
    this.titleNode.textContent = p.label === "" ? p.jobId : `${p.label} ${p.jobId}`;
    this.statusNode.textContent = statusText(p, percent);
    this.bar.hidden = false;
    this.bar.setAttribute("aria-valuenow", String(percent));
    this.bar.setAttribute("aria-label", `${p.label} ${p.jobId}: ${percent}%`);
    this.bar.title = `${settled} of ${p.total} calls settled`;
    this.doneBar.style.width = `${p.total === 0 ? (p.finished ? 100 : 0) : (p.done / p.total) * 100}%`;
    this.failedBar.style.width = `${p.total === 0 ? 0 : (p.failed / p.total) * 100}%`;
    this.cancelledBar.style.width = `${p.total === 0 ? 0 : (p.cancelled / p.total) * 100}%`;
    const cancelled = p.cancelled > 0 ? ` / cancelled (${p.cancelled})` : "";
    this.counts.textContent = `${p.done} done / ${p.running} running / ${p.failed} failed${cancelled} / ${p.total} total`;
    this.elapsed.textContent = formatElapsed(p.elapsedSeconds);
    this.message.textContent =
      p.version <= PAYLOAD_VERSION ? "" : `progress format version ${p.version} is newer than this extension reads (${PAYLOAD_VERSION}); update @tswren/jupyterlab-progress`;
    this.message.hidden = this.message.textContent === "";
  }

  private showInvalid(reason: string, plain: unknown): void {
    this.node.classList.add("tswren-progress-invalid");
    this.node.classList.remove("tswren-progress-finished", "tswren-progress-has-failed", "tswren-progress-has-cancelled", "tswren-progress-stopped");
    for (const key of ["done", "failed", "cancelled", "total", "finished"]) this.node.removeAttribute(`data-${key}`);
    this.titleNode.textContent = "tswren progress";
    this.statusNode.textContent = "";
    this.bar.hidden = true;
    this.bar.removeAttribute("aria-valuenow");
    this.counts.textContent = typeof plain === "string" ? plain : "";
    this.elapsed.textContent = "";
    this.message.textContent = `Cannot show this progress update: ${reason}.`;
    this.message.hidden = false;
  }
}
