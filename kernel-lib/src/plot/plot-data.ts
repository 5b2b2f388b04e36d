/**
 * The data behind the execution plots, taken from the futures' stats (Lithops-style timestamps,
 * see `CallStats`), in seconds since the earliest job creation among the futures.
 */
import type { ResponseFuture } from "../future.js";
import type { StatsField } from "../job/stats-table.js";
import { jobStartMs } from "../progress/counts.js";

/** The events of a call shown on the timeline, in life-cycle order. */
export const TIMELINE_EVENTS = [
  ["submit", "hostSubmitMs"],
  ["function start", "workerFuncStartMs"],
  ["function end", "workerFuncEndMs"],
  ["status fetched", "hostStatusDoneMs"],
  ["result fetched", "hostResultDoneMs"],
] as const satisfies ReadonlyArray<readonly [string, StatsField]>;

/** Name of a timeline event. */
export type TimelineEvent = (typeof TIMELINE_EVENTS)[number][0];

/** One point of the timeline: one event of one call. */
export interface TimelinePoint {
  /** Position of the call in the plotted list (0-based). */
  call: number;
  /** `executorId-jobId/callId`. */
  callId: string;
  event: TimelineEvent;
  seconds: number;
  /** The call's state (`success`, `error`, `cancelled`, ...). */
  status: string;
}

/** The run of one call's function (one bar of the concurrency chart). */
export interface CallSpan {
  call: number;
  callId: string;
  startSeconds: number;
  endSeconds: number;
  status: string;
}

/** Calls running from `seconds` on (a step of the concurrency line). */
export interface RunningStep {
  seconds: number;
  running: number;
}

/** The mean number of calls running during one time bin (the concurrency chart's line). */
export interface RunningBin {
  /** Bin start, in seconds. */
  seconds: number;
  /** Bin end, in seconds. */
  endSeconds: number;
  /** Time-weighted mean of calls running in [seconds, endSeconds). */
  running: number;
}

/** Bins the concurrency line is averaged over, at most (a readable line however short the calls). */
export const RUNNING_BINS = 100;

/** Everything the two charts show. */
export interface PlotData {
  timeline: TimelinePoint[];
  spans: CallSpan[];
  /** Exact steps of calls running (every function start and end). */
  running: RunningStep[];
  /** Calls running, averaged per bin of `binSeconds` from 0 to the last function end. */
  runningBins: RunningBin[];
  /** Width of the bins of `runningBins`, a 1-2-5 step of at least 1 ms. */
  binSeconds: number;
  /** Epoch ms the seconds count from. */
  originMs: number;
}

function round3(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

/** Calls running over time, from the spans: a step each time a function starts or ends. */
export function runningSteps(spans: readonly CallSpan[]): RunningStep[] {
  const deltas: Array<[number, number]> = [];
  for (const s of spans) deltas.push([s.startSeconds, 1], [s.endSeconds, -1]);
  deltas.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const steps: RunningStep[] = [{ seconds: 0, running: 0 }];
  let running = 0;
  for (const [seconds, delta] of deltas) {
    running += delta;
    const last = steps[steps.length - 1];
    if (last.seconds === seconds) last.running = running;
    else steps.push({ seconds, running });
  }
  return steps;
}

/**
 * The smallest 1-2-5 step (1 ms, 2 ms, 5 ms, 10 ms, ...) that cuts `seconds` into at most `bins` bins.
 * @param seconds - the time span to cut
 * @param bins - the most bins wanted
 */
export function binWidthSeconds(seconds: number, bins = RUNNING_BINS): number {
  const wantMs = Math.max(1, (seconds * 1000) / bins);
  const decade = 10 ** Math.floor(Math.log10(wantMs));
  const step = [1, 2, 5, 10].map((m) => m * decade).find((ms) => ms >= wantMs - 1e-9) ?? 10 * decade;
  return step / 1000;
}

/**
 * Calls running, as the time-weighted mean per bin: a call running for half a bin counts 0.5. Short
 * calls (a few ms, hundreds of them) give a readable level instead of a barcode of 0-1-0 spikes.
 * @param spans - the calls' function runs
 * @param binSeconds - the bin width (from {@link binWidthSeconds})
 */
export function runningBins(spans: readonly CallSpan[], binSeconds: number): RunningBin[] {
  const lastEnd = spans.reduce((m, s) => Math.max(m, s.endSeconds), 0);
  if (spans.length === 0 || lastEnd <= 0) return [];
  const count = Math.ceil(lastEnd / binSeconds - 1e-9);
  const busy = new Array<number>(count).fill(0);
  for (const s of spans) {
    const first = Math.max(0, Math.floor(s.startSeconds / binSeconds));
    for (let b = first; b < count && b * binSeconds < s.endSeconds; b++) {
      busy[b] += Math.max(0, Math.min(s.endSeconds, (b + 1) * binSeconds) - Math.max(s.startSeconds, b * binSeconds));
    }
  }
  return busy.map((seconds, b) => ({ seconds: round3(b * binSeconds), endSeconds: round3((b + 1) * binSeconds), running: Math.round((seconds / binSeconds) * 100) / 100 }));
}

/**
 * Collect the plot data of futures (the stats taken so far; calls still running have fewer events).
 * @param futures - the calls to plot, in the order of the y axis
 */
export function plotData(futures: readonly ResponseFuture[]): PlotData {
  const originMs = jobStartMs(futures) ?? 0;
  const timeline: TimelinePoint[] = [];
  const spans: CallSpan[] = [];
  futures.forEach((f, call) => {
    const callId = `${f.executorId}-${f.jobId}/${f.callId}`;
    for (const [event, field] of TIMELINE_EVENTS) {
      const ms = f.stat(field);
      if (ms !== undefined && ms > 0) timeline.push({ call, callId, event, seconds: round3((ms - originMs) / 1000), status: f.status });
    }
    const start = f.stat("workerFuncStartMs");
    const end = f.stat("workerFuncEndMs");
    if (start !== undefined && end !== undefined) {
      spans.push({ call, callId, startSeconds: round3((start - originMs) / 1000), endSeconds: round3((end - originMs) / 1000), status: f.status });
    }
  });
  const binSeconds = binWidthSeconds(spans.reduce((m, s) => Math.max(m, s.endSeconds), 0));
  return { timeline, spans, running: runningSteps(spans), runningBins: runningBins(spans, binSeconds), binSeconds, originMs };
}
