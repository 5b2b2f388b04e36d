/**
 * Parsing of a `%%cloud` magic line (or the text of a `@cloud` JSDoc tag):
 * `<verb> <arg>... [--as <name>] [--fx <executor>] [--<option> <value>]...`. Arguments are
 * TypeScript expressions separated by spaces at the top level; an expression with spaces of its
 * own goes in parentheses or brackets.
 */
import { ErrorCodes, TswrenError } from "../errors.js";

/** The cell helpers, by magic verb. */
export const VERBS = {
  map: { method: "map", args: ["iterdata"] },
  call_async: { method: "callAsync", args: ["data"] },
  map_reduce: { method: "mapReduce", args: ["iterdata", "reducer"] },
} as const;

/** A verb of `%%cloud`. */
export type CloudVerb = keyof typeof VERBS;

/** Where a piece of the magic text starts (offset in the cell) and what it says. */
export interface Token {
  text: string;
  offset: number;
}

/** A parsed magic line. */
export interface CloudMagic {
  verb: CloudVerb;
  /** Positional arguments (expressions), as many as the verb takes. */
  args: Token[];
  /** Variable that keeps the result. */
  name: string;
  /** Expression of the executor to use, or undefined for the kernel's default executor. */
  fx: Token | undefined;
  /** Call options (`--timeout 30` gives `timeout: 30`), values as expressions. */
  options: Array<{ key: string; value: Token }>;
}

/** Name of the variable that keeps the result when `--as` is not given. */
export const DEFAULT_RESULT_NAME = "cloudResult";

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
const OPENERS: Record<string, string> = { "(": ")", "[": "]", "{": "}" };
const USAGE = "write `%%cloud map <iterdata> [--as name]`, `%%cloud call_async <data>` or `%%cloud map_reduce <iterdata> <reducer>` on the first line, then the function";

function magicError(message: string): TswrenError {
  return new TswrenError(ErrorCodes.BAD_INPUT, `%%cloud: ${message}; ${USAGE} (see docs/notebook.md)`);
}

/** Skip a quoted string starting at `i`; returns the index after its closing quote. */
function skipString(text: string, i: number): number {
  const quote = text[i];
  for (let j = i + 1; j < text.length; j++) {
    if (text[j] === "\\") j++;
    else if (text[j] === quote) return j + 1;
  }
  throw magicError(`unterminated string ${text.slice(i)}`);
}

/**
 * Split `text` into expressions at top-level whitespace (brackets and strings kept whole).
 * @param base - offset of `text` in the cell
 * @throws TswrenError `TSWREN_BAD_INPUT` for unbalanced brackets or strings
 */
export function splitTokens(text: string, base: number): Token[] {
  const tokens: Token[] = [];
  const stack: string[] = [];
  let start = -1;
  let i = 0;
  const close = (end: number): void => {
    if (start >= 0) tokens.push({ text: text.slice(start, end), offset: base + start });
    start = -1;
  };
  while (i < text.length) {
    const c = text[i];
    if (stack.length === 0 && /\s/.test(c)) {
      close(i);
      i++;
      continue;
    }
    if (start < 0) start = i;
    if (c === '"' || c === "'" || c === "`") {
      i = skipString(text, i);
      continue;
    }
    if (OPENERS[c] !== undefined) stack.push(OPENERS[c]);
    else if (c === ")" || c === "]" || c === "}") {
      if (stack.pop() !== c) throw magicError(`unbalanced "${c}" in ${JSON.stringify(text.trim())}`);
    }
    i++;
  }
  if (stack.length > 0) throw magicError(`missing "${stack.at(-1) ?? ""}" in ${JSON.stringify(text.trim())}`);
  close(text.length);
  return tokens;
}

/** Check a variable name given to `--as`. */
function checkName(token: Token): string {
  if (!IDENTIFIER.test(token.text) || token.text.startsWith("__")) {
    throw magicError(`--as needs a variable name (letters, digits, _ and $, not starting with __); got ${JSON.stringify(token.text)}`);
  }
  return token.text;
}

/**
 * Parse the text after `%%cloud` (or `@cloud`).
 * @param text - the magic's text
 * @param base - offset of `text` in the cell
 * @throws TswrenError `TSWREN_BAD_INPUT` naming what is wrong and the syntax
 */
export function parseMagicLine(text: string, base: number): CloudMagic {
  const tokens = splitTokens(text, base);
  const verbToken = tokens.shift();
  if (verbToken === undefined) throw magicError("the verb is missing");
  if (!Object.hasOwn(VERBS, verbToken.text)) throw magicError(`unknown verb ${JSON.stringify(verbToken.text)} (known: ${Object.keys(VERBS).join(", ")})`);
  const verb = verbToken.text as CloudVerb;
  const args: Token[] = [];
  const options: CloudMagic["options"] = [];
  let name = DEFAULT_RESULT_NAME;
  let fx: Token | undefined;
  while (tokens.length > 0) {
    const token = tokens.shift() as Token;
    if (!token.text.startsWith("--")) {
      args.push(token);
      continue;
    }
    const key = token.text.slice(2);
    const value = tokens.shift();
    if (!IDENTIFIER.test(key)) throw magicError(`bad option ${JSON.stringify(token.text)}`);
    if (value === undefined || value.text.startsWith("--")) throw magicError(`option ${token.text} needs a value`);
    if (key === "as") name = checkName(value);
    else if (key === "fx") fx = value;
    else options.push({ key, value });
  }
  const wanted = VERBS[verb].args;
  if (args.length !== wanted.length) {
    throw magicError(`${verb} takes ${wanted.length} argument${wanted.length > 1 ? "s" : ""} (${wanted.map((a) => `<${a}>`).join(" ")}), got ${args.length}${args.length > wanted.length ? ": put an expression with spaces in parentheses" : ""}`);
  }
  return { verb, args, name, fx, options };
}
