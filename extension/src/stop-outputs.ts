/**
 * Marking the progress bars of a notebook stopped when its kernel restarts or dies: every
 * progress output whose payload is not `finished` is rewritten (payload, `text/html` and
 * `text/plain` fallbacks) to `finished: true`, `running: 0`, `stopped: <reason>`. The output
 * model's `set` is what `update_display_data` uses, so the renderer updates in place and the
 * notebook, once saved, says it too. Outputs of other kinds and finished bars are left alone.
 */
import type { IOutput } from "@jupyterlab/nbformat";
import { progressBundle, PROGRESS_MIME, PROGRESS_PAYLOAD_VERSION, type ProgressPayload } from "tswren/progress-payload";
import { parsePayload } from "./payload.js";

/** One output of a cell's output area, as far as this module reads it (`IOutputModel`). */
export interface OutputLike {
  readonly type: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** A cell's output area model, as far as this module uses it (`IOutputAreaModel`). */
export interface OutputsLike {
  readonly length: number;
  get(index: number): OutputLike;
  set(index: number, output: IOutput): void;
}

/** Why the bars stopped, from the kernel status JupyterLab reports; undefined for other statuses. */
export function stopReason(status: string): string | undefined {
  switch (status) {
    case "restarting":
      return "kernel restarted";
    case "autorestarting":
      return "kernel died and was restarted";
    case "dead":
      return "kernel died";
    default:
      return undefined;
  }
}

/**
 * The payload of an unfinished progress output, stopped; undefined for anything else.
 * @param data - the output's MIME bundle
 * @param reason - shown as `stopped: <reason>`
 */
export function stoppedPayload(data: Readonly<Record<string, unknown>>, reason: string): ProgressPayload | undefined {
  if (!(PROGRESS_MIME in data)) return undefined;
  const parsed = parsePayload(data[PROGRESS_MIME]);
  if (!parsed.ok || parsed.payload.finished) return undefined;
  return { ...parsed.payload, version: PROGRESS_PAYLOAD_VERSION, running: 0, finished: true, stopped: reason };
}

/**
 * Mark every unfinished progress output of one output area stopped.
 * @param outputs - the cell's output area model
 * @param reason - shown as `stopped: <reason>`
 * @returns how many outputs were rewritten
 */
export function stopOutputs(outputs: OutputsLike, reason: string): number {
  let count = 0;
  for (let i = 0; i < outputs.length; i++) {
    const output = outputs.get(i);
    if (output.type !== "display_data" && output.type !== "update_display_data") continue;
    const payload = stoppedPayload(output.data, reason);
    if (payload === undefined) continue;
    const data = { ...output.data, ...progressBundle(payload) } as unknown as IOutput["data"];
    outputs.set(i, { output_type: "display_data", data, metadata: { ...output.metadata } as IOutput["metadata"] });
    count++;
  }
  return count;
}
