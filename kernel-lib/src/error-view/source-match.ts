/**
 * Finding a shipped function's text in the source its user wrote. What a worker runs is the
 * function's compiled JavaScript (`Function.prototype.toString`): tslab (or tsx, or tsc) removed
 * the types, rewrote earlier-cell names to `exports.NAME` and reprinted the code. Its tokens are,
 * apart from those rewrites, a subsequence of the tokens of the TypeScript the user wrote, so a
 * greedy in-order match of the two token lists maps any position in the function's text back to
 * a line and column of the user's cell or file.
 */

/** One token of JavaScript or TypeScript text (whitespace and comments are not tokens). */
export interface SourceToken {
  text: string;
  offset: number;
}

/** A line and column (both 1-based) in a source text. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** How far ahead in the source a token may be found (type annotations lie in between). */
const WINDOW_TOKENS = 64;
/** The share of a function's tokens that must be found for the match to count. */
const MIN_MATCHED_SHARE = 0.8;
/** Sources longer than this (in tokens) are not searched (generated or minified files). */
const MAX_SOURCE_TOKENS = 200_000;

const IDENT_START = /[A-Za-z_$#\u0080-\uffff]/;
const IDENT_PART = /[\w$\u0080-\uffff]/;

function skipQuoted(text: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < text.length && text[i] !== quote) {
    if (text[i] === "\\") i++;
    else if (quote !== "`" && text[i] === "\n") break;
    i++;
  }
  return Math.min(i + 1, text.length);
}

/** End of the token that starts at `i` (which is not whitespace or a comment). */
function tokenEnd(text: string, i: number): number {
  const c = text[i] ?? "";
  if (c === '"' || c === "'" || c === "`") return skipQuoted(text, i, c);
  let j = i + 1;
  if (IDENT_START.test(c)) {
    while (j < text.length && IDENT_PART.test(text[j] ?? "")) j++;
  } else if (/[0-9]/.test(c)) {
    while (j < text.length && /[\w.]/.test(text[j] ?? "")) j++;
  }
  return j;
}

/** End of the whitespace or comment at `i`, or `i` when there is none. */
function skipTrivia(text: string, i: number): number {
  for (;;) {
    const c = text[i];
    if (c !== undefined && /\s/.test(c)) i++;
    else if (c === "/" && text[i + 1] === "/") i = text.indexOf("\n", i) < 0 ? text.length : text.indexOf("\n", i);
    else if (c === "/" && text[i + 1] === "*") i = text.indexOf("*/", i + 2) < 0 ? text.length : text.indexOf("*/", i + 2) + 2;
    else return i;
  }
}

/**
 * Split JavaScript or TypeScript text into tokens, leaving out semicolons (compilers add them
 * where the user left them out) and tslab's `exports.` prefix of earlier-cell names.
 * @param text - the source text
 * @returns the tokens in order
 */
export function tokenize(text: string): SourceToken[] {
  const tokens: SourceToken[] = [];
  let i = skipTrivia(text, 0);
  while (i < text.length) {
    const end = tokenEnd(text, i);
    const token = text.slice(i, end);
    if (token !== ";") tokens.push({ text: token, offset: i });
    i = skipTrivia(text, end);
  }
  return tokens.filter((t, k) => !(t.text === "exports" && tokens[k + 1]?.text === ".") && !(t.text === "." && tokens[k - 1]?.text === "exports"));
}

/** Greedy in-order match of `fn` tokens from source token `start`; -1 for a token not found. */
function matchFrom(fn: readonly SourceToken[], src: readonly SourceToken[], start: number, maxMisses: number): { found: Int32Array; matched: number } | null {
  const found = new Int32Array(fn.length).fill(-1);
  let cursor = start;
  let misses = 0;
  for (let k = 0; k < fn.length; k++) {
    const want = fn[k]?.text;
    const limit = Math.min(src.length, cursor + WINDOW_TOKENS);
    let hit = -1;
    for (let s = cursor; s < limit; s++) {
      if (src[s]?.text === want) { hit = s; break; }
    }
    if (hit < 0) {
      if (++misses > maxMisses) return null;
      continue;
    }
    found[k] = hit;
    cursor = hit + 1;
  }
  return { found, matched: fn.length - misses };
}

/** Where each token of a function lies in a source (-1: not found), and the share found. */
export interface TokenMatch {
  found: Int32Array;
  share: number;
}

/**
 * Find a function's tokens in a source's tokens.
 * @param fn - tokens of the function's (compiled) text
 * @param src - tokens of the source the user wrote
 * @returns the best match, or null when the function is not in the source
 */
export function matchTokens(fn: readonly SourceToken[], src: readonly SourceToken[]): TokenMatch | null {
  const first = fn[0]?.text;
  if (first === undefined || src.length > MAX_SOURCE_TOKENS) return null;
  const maxMisses = Math.floor(fn.length * (1 - MIN_MATCHED_SHARE));
  let best: TokenMatch | null = null;
  for (let start = 0; start < src.length; start++) {
    if (src[start]?.text !== first) continue;
    const m = matchFrom(fn, src, start, best === null ? maxMisses : Math.floor(fn.length * (1 - best.share)) - 1);
    if (m !== null && (best === null || m.matched / fn.length > best.share)) best = { found: m.found, share: m.matched / fn.length };
    if (best?.share === 1) break;
  }
  return best;
}

/**
 * The line and column of an offset in a text.
 * @param text - the text
 * @param offset - 0-based offset into it
 * @returns 1-based line and column
 */
export function positionAt(text: string, offset: number): SourcePosition {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i >= 0 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * The offset in a text of a 1-based line and column.
 * @returns the offset, or -1 when the text has no such line
 */
export function offsetAt(text: string, line: number, column: number): number {
  let start = 0;
  for (let l = 1; l < line; l++) {
    const nl = text.indexOf("\n", start);
    if (nl < 0) return -1;
    start = nl + 1;
  }
  return start + column - 1;
}

/**
 * Map an offset in a function's text to the source offset of the token at or before it.
 * @param fn - the function's tokens
 * @param src - the source's tokens
 * @param match - {@link matchTokens} of the two
 * @param offset - 0-based offset in the function's text
 * @returns the offset in the source, or -1 when no token before it was found there
 */
export function mapOffset(fn: readonly SourceToken[], src: readonly SourceToken[], match: TokenMatch, offset: number): number {
  for (let k = fn.length - 1; k >= 0; k--) {
    const token = fn[k];
    if (token === undefined || token.offset > offset) continue;
    const s = match.found[k] ?? -1;
    if (s < 0) continue;
    const within = offset - token.offset < token.text.length ? offset - token.offset : 0;
    return (src[s]?.offset ?? 0) + within;
  }
  return -1;
}
