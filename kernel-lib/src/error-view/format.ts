/**
 * How tswren errors read in a notebook or a terminal (`util.inspect`, which tslab and
 * `console.error` use): one block. A remote failure shows the call, the input's index and a short
 * preview of it, the remote error's name and message, and only the frames of the user's own code,
 * mapped back to the cell (or file) lines the user wrote. The full remote stack stays on
 * `error.remoteStack`, the client stack on `error.stack`.
 *
 * Import-light on purpose (errors.ts uses it): the mapping of frames to user lines is plugged in
 * by `job-code.ts` with {@link setFrameMapper}.
 */
import * as path from "node:path";
import { inspect } from "node:util";
import type { CallRef } from "../errors.js";
import { jobName } from "../progress/job-names.js";

/** Where a frame of a shipped function lies in the user's code. */
export type MappedFrame =
  | { where: "cell" | "file"; label: string; line: number; column: number }
  | { where: "function"; line: number; column: number };

/** Maps a bundle frame (1-based line and column) of a job to the user's code. */
export type FrameMapper = (executorId: string, jobId: string, line: number, column: number) => MappedFrame | null;

let frameMapper: FrameMapper | null = null;

/**
 * Plug in the mapping of bundle frames to user lines (done by `job-code.ts` when it loads).
 * @param mapper - the mapper
 */
export function setFrameMapper(mapper: FrameMapper): void {
  frameMapper = mapper;
}

/** What {@link formatRemoteError} needs of a `RemoteFunctionError`. */
export interface RemoteErrorView {
  code: string;
  remoteName: string;
  remoteMessage: string;
  remoteStack: string | undefined;
  inputPreview: string | undefined;
  call: CallRef;
  attempt: number;
}

/** The file name the worker's loader gives a function bundle. */
const BUNDLE_FILE = /(?:^|[/\\])tswren-function-[\w$-]*\.js$/;
const FRAME = /^\s*at (?:(.+?) \()?(.+?):(\d+):(\d+)\)?$/;

function describe(frame: MappedFrame): string {
  if (frame.where === "function") return `line ${frame.line} of the function`;
  return frame.where === "cell" ? `${frame.label}, line ${frame.line}` : `${frame.label}:${frame.line}:${frame.column}`;
}

/**
 * The frames of the user's code in a remote stack, as readable lines.
 * @param stack - the remote stack text
 * @param call - the call it belongs to (its job's code maps the frames)
 * @returns `at name (cell [4], line 3)` lines, outermost last
 */
export function userFrames(stack: string, call: CallRef): string[] {
  const out: string[] = [];
  for (const line of stack.split("\n")) {
    const m = FRAME.exec(line);
    if (m === null || !BUNDLE_FILE.test(m[2] ?? "")) continue;
    const name = m[1]?.replace(/^async /, "").replace(/^Object\./, "").replace(/^__tswren_\d+$/, "");
    const mapped = frameMapper?.(call.executorId, call.jobId, Number(m[3]), Number(m[4])) ?? null;
    const where = mapped === null ? `line ${m[3]} of the function bundle` : describe(mapped);
    const text = name === undefined || name === "" ? `at ${where}` : `at ${name} (${where})`;
    if (out[out.length - 1] !== text) out.push(text);
  }
  return out;
}

function firstLine(text: string): string {
  return text.split("\n")[0] ?? "";
}

/**
 * A remote failure as one readable block.
 * @param err - the error's fields
 * @returns the block (no trailing newline)
 */
export function formatRemoteError(err: RemoteErrorView): string {
  const index = Number.parseInt(err.call.callId, 10);
  const ids = `${err.call.executorId}/${err.call.jobId}/${err.call.callId}${err.attempt > 1 ? `, attempt ${err.attempt}` : ""}`;
  const name = jobName(err.call.executorId, err.call.jobId);
  const lines = [`${err.code}: ${name === undefined ? `job ${err.call.jobId}` : name} failed on input [${index}] (call ${ids})`];
  if (err.inputPreview !== undefined) lines.push(`  input [${index}]: ${err.inputPreview}`);
  const message = err.remoteMessage.split("\n");
  lines.push(`  ${err.remoteName}: ${message[0] ?? ""}`, ...message.slice(1).map((l) => `  ${l}`));
  if (err.remoteStack !== undefined && err.remoteStack !== "") {
    const frames = userFrames(err.remoteStack, err.call);
    if (frames.length > 0) lines.push(...frames.map((f) => `      ${f}`));
    else if (firstLine(err.remoteStack) !== err.remoteStack) lines.push("      (no frame of your code in the remote stack; see error.remoteStack)");
  }
  return lines.join("\n");
}

/** This package's folder (its frames are left out of client-side error blocks); set by `job-code.ts`. */
let ownRoot = "\0";

/**
 * Tell client-side error blocks which folder is tswren's own (its frames are left out).
 * @param root - the package folder
 */
export function setOwnRoot(root: string): void {
  ownRoot = root;
}

/** Frames of a client-side stack outside tswren and Node's internals. */
function callerFrames(stack: string | undefined): string[] {
  const root = ownRoot;
  return (stack ?? "").split("\n").filter((line) => {
    const m = FRAME.exec(line);
    if (m === null) return false;
    const file = (m[2] ?? "").replace(/^file:\/\//, "");
    return !file.startsWith("node:") && !file.startsWith(root + path.sep) && !file.includes(`${path.sep}node_modules${path.sep}`);
  }).map((line) => line.trim());
}

/**
 * A coded tswren error raised on the client as one block: code, message, the cause's message, and
 * the caller's frames (tswren's own and Node's left out).
 * @param err - the error
 * @returns the block (no trailing newline)
 */
export function formatCodedError(err: Error & { code: string }): string {
  const lines = [`${err.code}: ${err.message}`];
  const cause = err.cause;
  if (cause instanceof Error) lines.push(`  cause: ${cause.name}: ${firstLine(cause.message)}`);
  else if (cause !== undefined) lines.push(`  cause: ${inspect(cause, { depth: 1, breakLength: Infinity })}`);
  lines.push(...callerFrames(err.stack).map((f) => `      ${f}`));
  return lines.join("\n");
}
