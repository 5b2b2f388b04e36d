/**
 * Cell helpers of the `tswren` kernel: a cell that starts with `%%cloud <verb> ...` (or the
 * TypeScript-valid `/** @cloud <verb> ... *\/` JSDoc) and whose body is the function is rewritten
 * into plain TypeScript before tslab compiles it:
 *
 * ```
 * %%cloud map [1, 2, 3] --as doubled          const doubled = await Promise.resolve(<cells>.map([1, 2, 3], {}, undefined,
 * (x: number) => x * 2                        (x: number) => x * 2
 *                                             )); doubled
 * ```
 *
 * The user's lines stay on the same line numbers (the magic line becomes the call's head, the body
 * is kept as is, the closing parentheses come after it), so type errors and completions point at
 * the user's own lines; {@link RewrittenCell} maps cursor positions both ways.
 */
import { ErrorCodes, TswrenError } from "../errors.js";
import { DEFAULT_RESULT_NAME, parseMagicLine, VERBS, type CloudMagic, type Token } from "./magic-line.js";

export { DEFAULT_RESULT_NAME } from "./magic-line.js";

/** Name of the global object holding the cell helpers (installed by the kernel). */
export const CELLS_GLOBAL = "tswrenCells";

/** A cell rewritten from its magic form, with cursor mapping. */
export interface RewrittenCell {
  /** TypeScript that tslab compiles instead of the user's text. */
  code: string;
  /** Offset in the user's text to offset in `code`. */
  toRewritten(offset: number): number;
  /** Offset in `code` to offset in the user's text. */
  toOriginal(offset: number): number;
}

/** A stretch of text copied verbatim: `length` chars at `from` (user's) and `to` (rewritten). */
interface Segment {
  from: number;
  to: number;
  length: number;
}

const ITEMS = "Iterable<T> | AsyncIterable<T> | object";
const FN = "fn: (item: T, ctx: any) => R";
/** Type of each helper as seen by the type checker (inline: the cell needs no import). */
const SIGNATURES: Record<CloudMagic["verb"], string> = {
  map: `map<T, R>(items: ${ITEMS}, options: object, fx: unknown, ${FN}): Promise<Awaited<R>[]>`,
  call_async: `callAsync<T, R>(data: T, options: object, fx: unknown, ${FN}): Promise<Awaited<R>>`,
  map_reduce: `mapReduce<T, R, S>(items: ${ITEMS}, reducer: (results: Awaited<R>[], ctx: any) => S, options: object, fx: unknown, ${FN}): Promise<Awaited<S>>`,
};

/** Where the magic is in the cell: its text, and where the function body starts. */
interface MagicHeader {
  text: string;
  textOffset: number;
  /** Offset just after the magic (the end of its first line for `%%cloud`, of the comment for JSDoc). */
  end: number;
}

/** Find a `%%cloud` first line or a leading `/** @cloud ... *\/` comment; null when neither. */
function findHeader(code: string): MagicHeader | null {
  if (code.startsWith("%%")) {
    const eol = code.indexOf("\n") < 0 ? code.length : code.indexOf("\n");
    const first = code.slice(0, eol);
    const m = /^%%cloud(?=\s|$)/.exec(first);
    if (m === null) throw new TswrenError(ErrorCodes.BAD_INPUT, `unknown cell magic ${JSON.stringify(first.split(/\s/)[0])}: the tswren kernel knows only %%cloud (see docs/notebook.md)`);
    return { text: first.slice(m[0].length), textOffset: m[0].length, end: eol };
  }
  const jsdoc = /^\s*\/\*\*([\s\S]*?)\*\//.exec(code);
  if (jsdoc === null) return null;
  const body = jsdoc[1];
  const tag = /(^|\n)\s*\*?\s*@cloud(?=\s)/.exec(body);
  if (tag === null) return null;
  const start = jsdoc.index + jsdoc[0].indexOf(body) + tag.index + tag[0].length;
  // The tag's text runs to the end of the comment; JSDoc's leading `*` of each line is blanked.
  const text = code.slice(start, jsdoc.index + jsdoc[0].length - 2).replace(/\n\s*\*(?!\/)/g, (s) => s.replace("*", " "));
  return { text, textOffset: start, end: jsdoc.index + jsdoc[0].length };
}

/** Builder of the rewritten text that records verbatim segments. */
class Writer {
  text = "";
  readonly segments: Segment[] = [];

  raw(s: string): void {
    this.text += s;
  }

  copy(token: Token): void {
    this.segments.push({ from: token.offset, to: this.text.length, length: token.text.length });
    this.text += token.text;
  }
}

function writeHead(w: Writer, magic: CloudMagic): void {
  w.raw(`const ${magic.name} = await Promise.resolve((globalThis as unknown as { ${CELLS_GLOBAL}: { ${SIGNATURES[magic.verb]} } }).${CELLS_GLOBAL}.${VERBS[magic.verb].method}(`);
  for (const arg of magic.args) {
    w.copy(arg);
    w.raw(", ");
  }
  // `--as x` also names the job `x` (progress bars, chart titles), unless `--name` is given.
  const named = magic.name !== DEFAULT_RESULT_NAME && !magic.options.some((o) => o.key === "name");
  w.raw(named ? `{ name: ${JSON.stringify(magic.name)}` : "{");
  magic.options.forEach((o, i) => {
    w.raw(`${i > 0 || named ? "," : ""} ${o.key}: `);
    w.copy(o.value);
  });
  w.raw(magic.options.length > 0 || named ? " }, " : "}, ");
  if (magic.fx !== undefined) w.copy(magic.fx);
  else w.raw("undefined");
  w.raw(",");
}

/**
 * Rewrite a `%%cloud` / `@cloud` cell into TypeScript; null when the cell has no magic.
 * @throws TswrenError `TSWREN_BAD_INPUT` for a bad magic line or a missing function body
 * @example rewriteCell("%%cloud map [1, 2] --as ys\n(x: number) => x + 1")?.code
 */
export function rewriteCell(code: string): RewrittenCell | null {
  const header = findHeader(code);
  if (header === null) return null;
  const magic = parseMagicLine(header.text, header.textOffset);
  let body = code.slice(header.end);
  // A trailing `;` would end the call's argument list early.
  body = body.replace(/;(\s*)$/, "$1");
  if (body.trim() === "") {
    throw new TswrenError(ErrorCodes.BAD_INPUT, `%%cloud ${magic.verb}: the cell has no function; write the function (e.g. \`(x: number) => x * 2\`) on the lines after the magic (see docs/notebook.md)`);
  }
  const w = new Writer();
  writeHead(w, magic);
  // Keep the magic's line count (a JSDoc may span lines) so the body stays on its lines.
  w.raw("\n".repeat(code.slice(0, header.end).split("\n").length - 1));
  w.copy({ text: body, offset: header.end });
  w.raw(`\n)); ${magic.name}`);
  return withMapping(w.text, w.segments);
}

function withMapping(code: string, segments: Segment[]): RewrittenCell {
  const map = (offset: number, src: "from" | "to", dst: "from" | "to"): number => {
    let best = 0;
    for (const s of segments) {
      if (offset >= s[src] && offset <= s[src] + s.length) return s[dst] + (offset - s[src]);
      if (s[src] <= offset) best = s[dst] + s.length;
    }
    return best;
  };
  return { code, toRewritten: (o) => map(o, "from", "to"), toOriginal: (o) => map(o, "to", "from") };
}
