/**
 * What the client remembers of each job's code so that a remote error can point at the user's
 * own lines: the function bundle it shipped (whose factory source holds every captured function
 * verbatim) and where the user's code may have been written (the notebook's cells, or the
 * script files that submitted the job). Nothing here is read unless an error is displayed.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { RUNTIME_PARAM } from "../job/capture/emit.js";
import { decodeFunctionBundle } from "../job/function-bundle.js";
import { setFrameMapper, setOwnRoot, type MappedFrame } from "./format.js";
import { matchTokens, mapOffset, offsetAt, positionAt, tokenize, type SourceToken, type TokenMatch } from "./source-match.js";

/** A source the user wrote: a notebook cell (`cell [4]`) or a file path. */
export interface UserSource {
  /** How error displays name it: `cell [4]`, or the file path. */
  label: string;
  /** Its text. */
  code: string;
  /** True for files (frames are shown as `path:line:column`). */
  file: boolean;
}

/** The code of one submitted job, as the client shipped it. */
interface JobCode {
  bundleBytes: Uint8Array;
  files: string[];
  decoded?: { source: string; pieces: Piece[] };
}

/** One captured function inside the bundle's factory source. */
interface Piece {
  start: number;
  text: string;
  tokens: SourceToken[];
  /** Where it was written; undefined until looked up. */
  origin?: Origin | null;
}

/** The user's source a captured function was found in. */
interface Origin {
  source: UserSource;
  tokens: SourceToken[];
  match: TokenMatch;
}

/** How many jobs are remembered (the oldest are forgotten first). */
const MAX_JOBS = 2_000;
const CELL_SOURCES = Symbol.for("tswren.cellSources");
const jobs = new Map<string, JobCode>();

/** This package's folder: files under it are never the user's. */
const OWN_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * Let the notebook kernel tell error displays which cells ran (one provider per process).
 * @param provider - returns the executed cells, newest first
 */
export function setCellSources(provider: () => UserSource[]): void {
  (globalThis as Record<symbol, unknown>)[CELL_SOURCES] = provider;
}

function cellSources(): UserSource[] {
  const provider = (globalThis as Record<symbol, unknown>)[CELL_SOURCES];
  return typeof provider === "function" ? (provider as () => UserSource[])() : [];
}

/** Files of the user's code on the current stack, and the main script. */
function callSiteFiles(): string[] {
  const files = new Set<string>();
  for (const m of (new Error().stack ?? "").matchAll(/\(?((?:file:\/\/)?\/[^():]+):\d+:\d+\)?$/gm)) {
    const file = m[1] ?? "";
    files.add(file.startsWith("file://") ? fileURLToPath(file) : file);
  }
  const main = process.argv[1];
  if (main !== undefined && path.isAbsolute(main)) files.add(main);
  return [...files].filter((f) => f !== "" && !f.startsWith(OWN_ROOT + path.sep) && !f.includes(`${path.sep}node_modules${path.sep}`)).slice(0, 4);
}

/**
 * Remember what a job shipped, for error displays. Cheap: the bundle is decoded only when one of
 * the job's errors is shown.
 * @param executorId - the job's executor
 * @param jobId - the job
 * @param bundleBytes - the function bundle the job's calls run
 */
export function rememberJobCode(executorId: string, jobId: string, bundleBytes: Uint8Array): void {
  jobs.set(`${executorId}-${jobId}`, { bundleBytes, files: callSiteFiles() });
  if (jobs.size > MAX_JOBS) jobs.delete(jobs.keys().next().value as string);
}

/** The captured functions in a bundle's factory source (each is `(<text>\n)` or `.method({<text>\n})`). */
function piecesOf(source: string): Piece[] {
  const pieces: Piece[] = [];
  const head = new RegExp(`^const [\\w$]+ = (\\(|${RUNTIME_PARAM}\\.method\\(\\{)`, "gm");
  for (const m of source.matchAll(head)) {
    const start = m.index + m[0].length;
    const end = source.indexOf(m[1] === "(" ? "\n);\n" : "\n});\n", start);
    if (end < 0) continue;
    const text = source.slice(start, end);
    pieces.push({ start, text, tokens: tokenize(text) });
  }
  return pieces;
}

function readSource(file: string): UserSource | null {
  try {
    return { label: path.relative(process.cwd(), file).startsWith("..") ? file : path.relative(process.cwd(), file), code: readFileSync(file, "utf8"), file: true };
  } catch {
    return null;
  }
}

/** Where a piece was written: the newest cell (or file) that holds it, else null. */
function originOf(piece: Piece, job: JobCode): Origin | null {
  const sources = [...cellSources(), ...job.files.map(readSource).filter((s): s is UserSource => s !== null)];
  let best: Origin | null = null;
  for (const source of sources) {
    const tokens = tokenize(source.code);
    const match = matchTokens(piece.tokens, tokens);
    if (match !== null && (best === null || match.share > best.match.share)) best = { source, tokens, match };
    if (best?.match.share === 1) break;
  }
  return best;
}

/**
 * Map a frame of a job's function bundle (`tswren-function-*.js:line:column`) to the user's code.
 * @returns where the frame is in the user's cell or file, its line in the function when the
 *   function's source is not known, or null when the frame is outside captured functions
 */
export function mapBundleFrame(executorId: string, jobId: string, line: number, column: number): MappedFrame | null {
  const job = jobs.get(`${executorId}-${jobId}`);
  if (job === undefined) return null;
  job.decoded ??= (() => {
    const { source } = decodeFunctionBundle(job.bundleBytes);
    return { source, pieces: piecesOf(source) };
  })();
  const offset = offsetAt(job.decoded.source, line, column);
  const piece = job.decoded.pieces.find((p) => offset >= p.start && offset <= p.start + p.text.length);
  if (piece === undefined) return null;
  const relative = offset - piece.start;
  if (piece.origin === undefined) piece.origin = originOf(piece, job);
  const origin = piece.origin ?? null;
  const mapped = origin === null ? -1 : mapOffset(piece.tokens, origin.tokens, origin.match, relative);
  if (origin === null || mapped < 0) return { where: "function", ...positionAt(piece.text, relative) };
  return { where: origin.source.file ? "file" : "cell", label: origin.source.label, ...positionAt(origin.source.code, mapped) };
}

setFrameMapper(mapBundleFrame);
setOwnRoot(OWN_ROOT);
