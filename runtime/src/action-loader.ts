/**
 * Loads the code of an OpenWhisk `/init` the way the Node.js action runtime does: a binary action
 * is a base64 zip whose `package.json` `main` (or `index.js`) exports the entry function; a
 * plain action is JavaScript source that defines the entry function or exports it. The code is
 * written to a private temporary folder (removed at exit) and loaded with `require`: running the
 * deployed action is the container's purpose, and nothing else it receives is evaluated.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { unzipSync } from "fflate";

/** The entry function of an action. */
export type ActionMain = (params: unknown) => unknown;

/** The `value` of an `/init` request. */
export interface InitValue {
  name?: string;
  main?: string;
  code?: string;
  binary?: boolean;
  env?: Record<string, unknown>;
}

/** An `/init` that cannot be carried out; `statusCode` is the answer's HTTP status. */
export class InitError extends Error {
  readonly statusCode: number;
  constructor(statusCode: number, message: string) {
    super(message);
    this.name = "InitError";
    this.statusCode = statusCode;
  }
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function actionFolder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "tswren-action-"));
  process.once("exit", () => {
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** Unpack a zip into `dir`, refusing entries that would land outside it. */
function unzipInto(zipBase64: string, dir: string): void {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(Buffer.from(zipBase64, "base64"));
  } catch (err) {
    throw new InitError(502, `Initialization has failed due to: the action code is not a readable zip (${err instanceof Error ? err.message : String(err)})`);
  }
  for (const [name, bytes] of Object.entries(files)) {
    const target = path.resolve(dir, name);
    if (!target.startsWith(dir + path.sep)) throw new InitError(502, `Initialization has failed due to: zip entry ${name} leaves the action folder`);
    if (name.endsWith("/")) {
      mkdirSync(target, { recursive: true });
      continue;
    }
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, bytes);
  }
}

/** The file a zipped Node action starts from: `package.json` `main`, else `index.js`. */
function zipEntryFile(dir: string): string {
  const manifest = path.join(dir, "package.json");
  if (existsSync(manifest)) {
    const main = (JSON.parse(readFileSync(manifest, "utf8")) as { main?: unknown }).main;
    if (typeof main === "string") return path.resolve(dir, main);
  }
  const index = path.join(dir, "index.js");
  if (existsSync(index)) return index;
  throw new InitError(502, "Initialization has failed due to: the zip has neither a package.json main nor an index.js");
}

/** Source of a plain action, extended to export its entry function when it only declares it. */
function plainSource(code: string, mainName: string): string {
  return `${code}\n;if (typeof ${mainName} === "function" && typeof module.exports.${mainName} !== "function") module.exports.${mainName} = ${mainName};\n`;
}

/**
 * Load the action of an `/init` request.
 * @param value - the request's `value`
 * @returns the entry function
 * @throws InitError 403 without code, 502 when the code cannot be loaded or has no such function
 */
export function loadAction(value: InitValue): ActionMain {
  const mainName = value.main ?? "main";
  if (typeof value.code !== "string" || value.code === "") throw new InitError(403, "Missing main/no code to execute.");
  if (!IDENTIFIER.test(mainName)) throw new InitError(502, `Initialization has failed due to: the entry point name ${JSON.stringify(mainName)} is not a function name`);
  const dir = actionFolder();
  let file: string;
  if (value.binary === true) {
    unzipInto(value.code, dir);
    file = zipEntryFile(dir);
  } else {
    file = path.join(dir, "index.cjs");
    writeFileSync(file, plainSource(value.code, mainName));
  }
  let exported: unknown;
  try {
    exported = (createRequire(file)(file) as Record<string, unknown>)[mainName];
  } catch (err) {
    throw new InitError(502, `Initialization has failed due to: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
  if (typeof exported !== "function") throw new InitError(502, `Initialization has failed due to: the action's entry point '${mainName}' is not a function.`);
  return exported as ActionMain;
}
