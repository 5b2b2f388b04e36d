/**
 * Captures what a call writes to stdout and stderr (including `console.*`) while it runs, so it
 * can travel back in the call's status and be shown by `future.logs()`.
 *
 * The streams are patched once while any capture is active (so captures may overlap when an
 * entry point runs several calls at once). A write made inside {@link LogCapture.run} belongs to
 * that capture alone; any other write goes to every active capture.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { LOG_LIMIT_BYTES } from "tswren/internal";

type Write = typeof process.stdout.write;

/** An active capture; `stop()` restores the streams (when it was the last) and returns the text. */
export interface LogCapture {
  /** Run `fn` so that its writes (and those of what it starts) belong to this capture only. */
  run<T>(fn: () => T): T;
  stop(): string;
}

interface Sink {
  chunks: string[];
  size: number;
  truncated: boolean;
  passThrough: boolean;
}

const active = new Set<Sink>();
const owner = new AsyncLocalStorage<Sink>();
let originals: Array<[NodeJS.WriteStream, Write]> | null = null;

function record(sink: Sink, text: string): void {
  if (sink.size + text.length <= LOG_LIMIT_BYTES) {
    sink.chunks.push(text);
    sink.size += text.length;
  } else {
    sink.truncated = true;
  }
}

function patchStreams(): void {
  // The original methods are put back as they were and only ever called with their stream.
  /* eslint-disable @typescript-eslint/unbound-method */
  const saved: Array<[NodeJS.WriteStream, Write]> = [
    [process.stdout, process.stdout.write],
    [process.stderr, process.stderr.write],
  ];
  /* eslint-enable @typescript-eslint/unbound-method */
  originals = saved;
  for (const [stream, original] of saved) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      const mine = owner.getStore();
      const sinks = mine !== undefined && active.has(mine) ? [mine] : [...active];
      for (const sink of sinks) record(sink, text);
      if (sinks.length === 0 || sinks.some((s) => s.passThrough)) {
        return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
      }
      const callback = rest.find((r): r is () => void => typeof r === "function");
      if (callback) queueMicrotask(callback);
      return true;
    });
  }
}

function restoreStreams(): void {
  for (const [stream, original] of originals ?? []) stream.write = original;
  originals = null;
}

/**
 * Write to the process's real stderr, past any active capture (for the runtime's own reports,
 * which belong to no running call).
 */
export function writeRealStderr(text: string): void {
  const original = originals?.find(([stream]) => stream === process.stderr)?.[1];
  if (original === undefined) process.stderr.write(text);
  else (original as (...a: unknown[]) => boolean).call(process.stderr, text);
}

/**
 * Start capturing stdout and stderr writes of this process.
 * @param passThrough - also write to the real streams (useful where the platform keeps logs)
 * @returns the capture; call `stop()` exactly once
 */
export function captureLogs(passThrough: boolean): LogCapture {
  const sink: Sink = { chunks: [], size: 0, truncated: false, passThrough };
  if (active.size === 0) patchStreams();
  active.add(sink);
  return {
    run: (fn) => owner.run(sink, fn),
    stop(): string {
      if (active.delete(sink) && active.size === 0) restoreStreams();
      return sink.chunks.join("") + (sink.truncated ? `\n[tswren: logs truncated at ${LOG_LIMIT_BYTES} bytes]\n` : "");
    },
  };
}
