/**
 * Captures what a call writes to stdout and stderr (including `console.*`) while it runs, so it
 * can travel back in the call's status and be shown by `future.logs()`.
 */
import { LOG_LIMIT_BYTES } from "tswren/internal";

type Write = typeof process.stdout.write;

/** An active capture; `stop()` restores the streams and returns the text. */
export interface LogCapture {
  stop(): string;
}

/**
 * Start capturing stdout and stderr writes of this process.
 * @param passThrough - also write to the real streams (useful where the platform keeps logs)
 */
export function captureLogs(passThrough: boolean): LogCapture {
  const chunks: string[] = [];
  let size = 0;
  let truncated = false;
  // The original methods are put back as they were and only ever called with their stream.
  /* eslint-disable @typescript-eslint/unbound-method */
  const originals: Array<[NodeJS.WriteStream, Write]> = [
    [process.stdout, process.stdout.write],
    [process.stderr, process.stderr.write],
  ];
  /* eslint-enable @typescript-eslint/unbound-method */
  for (const [stream, original] of originals) {
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      if (size + text.length <= LOG_LIMIT_BYTES) {
        chunks.push(text);
        size += text.length;
      } else {
        truncated = true;
      }
      const callback = rest.find((r): r is () => void => typeof r === "function");
      if (passThrough) return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
      if (callback) queueMicrotask(callback);
      return true;
    });
  }
  return {
    stop(): string {
      for (const [stream, original] of originals) stream.write = original;
      return chunks.join("") + (truncated ? `\n[tswren: logs truncated at ${LOG_LIMIT_BYTES} bytes]\n` : "");
    },
  };
}
