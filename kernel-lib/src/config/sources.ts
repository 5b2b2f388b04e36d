/**
 * Finding and reading the configuration sources: the YAML file, the `TSWREN_CONFIG` variable, the
 * executor's config object and options. Each becomes a {@link ConfigLayer} named for messages.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { isMap, isScalar, LineCounter, parseDocument } from "yaml";
import type { Document, ErrorCode as YamlErrorCode } from "yaml";
import { ErrorCodes, TswrenError } from "../errors.js";

/** One source of configuration, lowest precedence first when in a list. */
export interface ConfigLayer {
  /** The source as named in messages, e.g. `config file /home/me/.tswren/config`. */
  readonly source: string;
  /** What the source holds: should be `{ section: { key: value } }`. */
  readonly data: unknown;
  /** The 1-based line of a section or key in the source text, when it came from text. */
  readonly lineOf?: (keyPath: readonly string[]) => number | undefined;
}

/** Variable naming the config file. */
export const CONFIG_FILE_VAR = "TSWREN_CONFIG_FILE";
/** Variable holding config as YAML or JSON text. */
export const CONFIG_TEXT_VAR = "TSWREN_CONFIG";

/** Replace a leading `~` with the home directory. */
export function expandHome(p: string, home: string): string {
  if (p === "~") return home;
  return p.startsWith("~/") ? path.join(home, p.slice(2)) : p;
}

/**
 * The config file to read: `$TSWREN_CONFIG_FILE`, else `./.tswren_config`, else
 * `~/.tswren/config`, else none.
 * @throws TswrenError `TSWREN_CONFIG_FILE` when `TSWREN_CONFIG_FILE` names no file
 */
export function findConfigFile(env: NodeJS.ProcessEnv, cwd: string, home: string): string | undefined {
  const named = env[CONFIG_FILE_VAR];
  if (named !== undefined && named !== "") {
    const file = path.resolve(cwd, expandHome(named, home));
    if (!existsSync(file) || !statSync(file).isFile()) {
      throw new TswrenError(
        ErrorCodes.CONFIG_FILE,
        `${CONFIG_FILE_VAR} is set to ${file}, which is not an existing file; create it or unset ${CONFIG_FILE_VAR}`,
      );
    }
    return file;
  }
  return [path.join(cwd, ".tswren_config"), path.join(home, ".tswren", "config")].find((f) => existsSync(f));
}

/**
 * Read and parse a YAML config file.
 * @throws TswrenError `TSWREN_CONFIG_FILE` when it cannot be read or is not valid YAML
 */
export function fileLayer(file: string): ConfigLayer {
  const source = `config file ${file}`;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new TswrenError(ErrorCodes.CONFIG_FILE, `${source} could not be read; check that it is a readable file`, {
      cause: err,
    });
  }
  return textLayer(source, text);
}

/**
 * Parse the YAML or JSON text of the `TSWREN_CONFIG` variable.
 * @throws TswrenError `TSWREN_CONFIG_FILE` when the text is not valid YAML or JSON
 */
export function envLayer(text: string): ConfigLayer {
  return textLayer(`${CONFIG_TEXT_VAR} environment variable`, text);
}

/** Wrap an in-memory object (the executor's config or options) as a layer. */
export function objectLayer(source: string, data: unknown): ConfigLayer {
  return { source, data };
}

/** Our own words for YAML syntax errors; the library's messages may quote the text (and secrets). */
const YAML_PROBLEMS: Partial<Record<YamlErrorCode, string>> = {
  TAB_AS_INDENT: "tabs are not allowed for indentation; use spaces",
  DUPLICATE_KEY: "a key appears twice in the same mapping",
  MISSING_CHAR: "a closing quote or bracket, or a separator, is missing",
  BAD_INDENT: "bad indentation",
  BLOCK_AS_IMPLICIT_KEY: "a `key: value` follows another on one line; put it on its own line or quote the value",
  MULTILINE_IMPLICIT_KEY: "a key spans several lines",
  UNEXPECTED_TOKEN: "unexpected text",
  BAD_SCALAR_START: "a plain value starts with a reserved character; quote the value",
  BAD_DQ_ESCAPE: "a double-quoted string has an invalid escape sequence",
  MULTIPLE_DOCS: "the text holds more than one YAML document; keep one",
};

function yamlProblem(code: YamlErrorCode): string {
  return YAML_PROBLEMS[code] ?? code.toLowerCase().replaceAll("_", " ");
}

/** Parse YAML text into a layer, or throw naming the source, line and column. */
function textLayer(source: string, text: string): ConfigLayer {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false });
  const first = doc.errors[0];
  if (first !== undefined) {
    const { line, col } = counter.linePos(first.pos[0]);
    throw new TswrenError(
      ErrorCodes.CONFIG_FILE,
      `${source}, line ${line}, column ${col}: invalid YAML: ${yamlProblem(first.code)}; fix the syntax there`,
    );
  }
  return { source, data: toPlain(source, doc), lineOf: (keyPath) => lineOfPath(doc, counter, keyPath) };
}

/** The document as plain JS; an empty document is an empty mapping. */
function toPlain(source: string, doc: Document): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 }) ?? {};
  } catch {
    // The library's message quotes alias names from the text: keep it (and any secret) out.
    throw new TswrenError(
      ErrorCodes.CONFIG_FILE,
      `${source}: invalid YAML: an alias (*name) refers to no anchor (&name), or aliases expand too much`,
    );
  }
}

/** The line of the deepest key along `keyPath` that the document has. */
function lineOfPath(doc: Document, counter: LineCounter, keyPath: readonly string[]): number | undefined {
  let node: unknown = doc.contents;
  let line: number | undefined;
  for (const key of keyPath) {
    if (!isMap(node)) return line;
    const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
    if (pair === undefined || !isScalar(pair.key) || pair.key.range == null) return line;
    line = counter.linePos(pair.key.range[0]).line;
    node = pair.value;
  }
  return line;
}
