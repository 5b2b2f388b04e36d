/** Terminal progress bar (cli-progress) shown while waiting on futures, when stdout is a TTY. */
import cliProgress from "cli-progress";
import type { ResponseFuture } from "../future.js";
import { countFutures, type ProgressDisplay } from "./counts.js";

const MIN_INTERVAL_MS = 100;

/** A cli-progress bar over a set of futures. */
export class TerminalProgress implements ProgressDisplay {
  private readonly bar: cliProgress.SingleBar;
  private readonly futures: readonly ResponseFuture[];
  private lastMs = 0;
  private readonly ticker: NodeJS.Timeout;

  constructor(futures: readonly ResponseFuture[]) {
    this.futures = futures;
    this.bar = new cliProgress.SingleBar(
      { format: "tswren |{bar}| {value}/{total} calls ended: {done} done, {failed} failed, {cancelled} cancelled, {running} running | {duration_formatted}", hideCursor: true, clearOnComplete: false },
      cliProgress.Presets.shades_classic,
    );
    const c = countFutures(futures);
    this.bar.start(c.total, c.done + c.failed + c.cancelled, { done: c.done, failed: c.failed, cancelled: c.cancelled, running: c.running });
    this.ticker = setInterval(() => { this.render(); }, 250);
    this.ticker.unref();
  }

  update(): void {
    const now = Date.now();
    if (now - this.lastMs < MIN_INTERVAL_MS) return;
    this.lastMs = now;
    this.render();
  }

  private render(): void {
    const c = countFutures(this.futures);
    this.bar.update(c.done + c.failed + c.cancelled, { done: c.done, failed: c.failed, cancelled: c.cancelled, running: c.running });
  }

  stop(): void {
    clearInterval(this.ticker);
    this.render();
    this.bar.stop();
  }
}
