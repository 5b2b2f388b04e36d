/**
 * npm packages and Node built-ins seen from a captured function: recognising a value as a loaded
 * module (or one of its exports) by identity in `require.cache`, and bundling a package with
 * esbuild into one CommonJS source, content-hashed so it is uploaded once.
 */
import { createHash } from "node:crypto";
import { builtinModules, createRequire, isBuiltin } from "node:module";
import * as path from "node:path";
import { ErrorCodes, TswrenError } from "../../errors.js";
// tswren's own public API: a function that uses it gets the worker's own tswren (never a bundle).
import * as ownApi from "../../index.js";

/** The specifier functions reach tswren's own API by; the worker runtime provides it. */
export const OWN_API_SPECIFIER = "tswren";

/** A bundled npm package: its esbuild CJS bundle and the sha256 (32 hex chars) of that source. */
export interface CapturedModule {
  hash: string;
  source: string;
}

/** A module a captured function needs: a built-in (`file` null) or a file to bundle. */
export interface ModuleTarget {
  /** Package name, built-in name, or the specifier a `require("...")` call used. */
  specifier: string;
  /** Absolute path of the module file to bundle; null for Node built-ins. */
  file: string | null;
}

/** How a value relates to a module. */
export type ModuleMatch =
  | { target: ModuleTarget; access: "raw" | "star" }
  | { target: ModuleTarget; access: "member"; member: string };

/** Modules whose loading has side effects or warnings, never used as capture targets. */
const SKIPPED_BUILTINS = new Set(["punycode", "sys", "wasi", "trace_events", "repl", "inspector", "inspector/promises", "domain"]);

/**
 * Where a file sits in `node_modules`.
 * @param file - absolute path of a module file
 * @returns the package name and the package's root folder, or null outside `node_modules`
 */
export function packageOf(file: string): { name: string; root: string } | null {
  const norm = file.split(path.sep).join("/");
  const marker = "/node_modules/";
  const at = norm.lastIndexOf(marker);
  if (at < 0) return null;
  const rest = norm.slice(at + marker.length).split("/");
  const parts = rest[0]?.startsWith("@") ? 2 : 1;
  if (rest.length <= parts) return null;
  const name = rest.slice(0, parts).join("/");
  return { name, root: norm.slice(0, at + marker.length) + name };
}

/** The identifier TypeScript derives from a module specifier for `import x from "spec"` (`spec_1`). */
export function importAliasBase(specifier: string): string {
  const base = specifier.slice(specifier.lastIndexOf("/") + 1);
  return base.replace(/^(\d)/, "_$1").replace(/\W/g, "_");
}

/** The identifier esbuild (tsx) derives from a module specifier (`import_spec`), without the prefix. */
export function esbuildAliasBase(specifier: string): string {
  const parts = specifier.split("/");
  let base = (parts.at(-1) ?? "").replace(/\.[^.]*$/, "");
  if (base === "index" && parts.length > 1) base = parts.at(-2) ?? base;
  return base.replace(/[^\w$]/g, "_").replace(/^(\d)/, "_$1");
}

/** Candidate module-name bases of a compiler-generated import name, or empty. */
export function importAliasCandidates(name: string): Array<{ base: string; derive: (specifier: string) => string }> {
  const out: Array<{ base: string; derive: (specifier: string) => string }> = [];
  const ts = /^(.+)_\d+$/.exec(name);
  if (ts?.[1] !== undefined) out.push({ base: ts[1], derive: importAliasBase });
  const es = /^import_(.+?)(\d*)$/.exec(name);
  if (es?.[1] !== undefined) {
    out.push({ base: es[1] + (es[2] ?? ""), derive: esbuildAliasBase });
    if (es[2]) out.push({ base: es[1], derive: esbuildAliasBase });
  }
  return out;
}

function isObjectLike(value: unknown): value is object {
  return (typeof value === "object" && value !== null) || typeof value === "function";
}

/**
 * Own properties of a module's exports whose values are functions (exported objects are data the
 * user may have changed, so they travel by value instead).
 */
function memberFunctions(exports: object): Array<[string, Function]> {
  const out: Array<[string, Function]> = [];
  const esModule = Boolean((exports as { __esModule?: unknown }).__esModule);
  for (const key of Object.getOwnPropertyNames(exports)) {
    try {
      const desc = Object.getOwnPropertyDescriptor(exports, key);
      const value: unknown = desc?.get && esModule ? desc.get.call(exports) : desc?.value;
      if (typeof value === "function") out.push([key, value]);
    } catch {
      // an export whose getter throws is not a capture target
    }
  }
  return out;
}

/** The last index built, reused while no module was loaded or unloaded since (same cwd). */
let lastIndex: { cwd: string; loaded: number; index: ModuleIndex } | null = null;

/**
 * The index of the modules loaded in this process, built again only when `require.cache`
 * gained or lost modules since the last call (building it walks every loaded module's exports,
 * which costs milliseconds on each submission otherwise).
 * @param cwd - folder that `require("...")` specifiers in captured code resolve from
 */
export function sharedModuleIndex(cwd: string): ModuleIndex {
  const loaded = Object.keys(createRequire(import.meta.url).cache).length;
  if (lastIndex === null || lastIndex.cwd !== cwd || lastIndex.loaded !== loaded) lastIndex = { cwd, loaded, index: new ModuleIndex(cwd) };
  return lastIndex.index;
}

/**
 * An index of the modules loaded in this process (npm packages in `require.cache` and Node
 * built-ins), by the identity of their exports and of their exported functions and objects.
 */
export class ModuleIndex {
  private readonly raw = new Map<unknown, ModuleTarget>();
  private readonly members = new Map<unknown, { target: ModuleTarget; member: string }>();
  private readonly require: NodeJS.Require;

  /** @param cwd - folder that `require("...")` specifiers in captured code resolve from */
  constructor(private readonly cwd: string) {
    this.require = createRequire(path.join(cwd, "tswren-capture.js"));
    this.add({ specifier: OWN_API_SPECIFIER, file: null }, ownApi);
    for (const name of builtinModules) this.addBuiltin(name);
    for (const [file, mod] of Object.entries(this.require.cache)) this.addPackageFile(file, mod?.exports);
  }

  private addBuiltin(name: string): void {
    if (name.startsWith("_") || SKIPPED_BUILTINS.has(name)) return;
    try {
      this.add({ specifier: name, file: null }, this.require(name));
    } catch {
      // not loadable here: not a capture target
    }
  }

  private addPackageFile(file: string, exports: unknown): void {
    const pkg = packageOf(file);
    if (pkg !== null) this.add({ specifier: pkg.name, file }, exports);
  }

  private add(target: ModuleTarget, exports: unknown): void {
    if (!isObjectLike(exports) || this.raw.has(exports)) return;
    this.raw.set(exports, target);
    for (const [member, value] of memberFunctions(exports)) {
      if (!this.members.has(value)) this.members.set(value, { target, member });
    }
  }

  /**
   * Recognise a value as a module, a module namespace (`__importStar`) or a module's export.
   * @param value - a captured value
   * @returns how the value relates to a loaded module, or null
   */
  match(value: unknown): ModuleMatch | null {
    if (!isObjectLike(value)) return null;
    const raw = this.raw.get(value);
    if (raw !== undefined) return { target: raw, access: "raw" };
    const star = this.starTarget(value);
    if (star !== null) return { target: star, access: "star" };
    const member = this.members.get(value);
    return member === undefined ? null : { target: member.target, access: "member", member: member.member };
  }

  private starTarget(value: object): ModuleTarget | null {
    const desc = Object.getOwnPropertyDescriptor(value, "default");
    if (desc === undefined || !("value" in desc || desc.get)) return null;
    try {
      const inner: unknown = desc.get ? desc.get.call(value) : desc.value;
      return this.raw.get(inner) ?? null;
    } catch {
      return null;
    }
  }

  /**
   * Find the module behind a name a compiler generated for an import (TypeScript's `yaml_1` for
   * `import yaml from "yaml"` used in the same tslab cell, esbuild's `import_yaml` under tsx).
   * @param base - the name without the compiler's affixes
   * @param derive - how that compiler derives the name from a specifier
   * @returns the only loaded package or built-in whose specifier gives that name, or null
   */
  byImportAlias(base: string, derive: (specifier: string) => string = importAliasBase): ModuleTarget | null {
    const hits = new Map<string, ModuleTarget>();
    for (const name of builtinModules) {
      if (name.startsWith("_") || SKIPPED_BUILTINS.has(name)) continue;
      if (derive(name) === base || derive(`node:${name}`) === base) hits.set(name, { specifier: name, file: null });
    }
    for (const file of Object.keys(this.require.cache)) {
      const pkg = packageOf(file);
      if (pkg === null || hits.has(pkg.name) || derive(pkg.name) !== base) continue;
      const main = this.tryResolve(pkg.name);
      if (main !== null && this.require.cache[main] !== undefined) hits.set(pkg.name, { specifier: pkg.name, file: main });
    }
    return hits.size === 1 ? ([...hits.values()][0] ?? null) : null;
  }

  private tryResolve(specifier: string): string | null {
    try {
      return this.require.resolve(specifier);
    } catch {
      return null;
    }
  }

  /**
   * Resolve the specifier of a `require("...")` call in captured code.
   * @param specifier - the string literal
   * @param usedBy - how messages name the code that requires it
   * @returns the built-in or the file to bundle
   * @throws TswrenError `TSWREN_MODULE_BUNDLE` when it cannot be found
   */
  resolveSpecifier(specifier: string, usedBy: string): ModuleTarget {
    if (isBuiltin(specifier)) return { specifier, file: null };
    const file = this.tryResolve(specifier);
    if (file === null) {
      throw new TswrenError(
        ErrorCodes.MODULE_BUNDLE,
        `${usedBy} requires "${specifier}", which cannot be found from ${this.cwd}. ` +
          `Install it there (npm install ${specifier}) or pass the cwd option.`,
      );
    }
    return { specifier, file };
  }
}

const bundles = new Map<string, Promise<CapturedModule>>();

/**
 * Bundle a module file and everything it requires (Node built-ins stay external) into one
 * CommonJS source with esbuild. Results are cached per file for the life of the process.
 * @param target - the module to bundle (not a built-in)
 * @returns the source and its content hash
 * @throws TswrenError `TSWREN_MODULE_BUNDLE` when esbuild cannot bundle it (native addons, ...)
 */
export function bundleModule(target: ModuleTarget & { file: string }): Promise<CapturedModule> {
  let pending = bundles.get(target.file);
  if (pending === undefined) {
    pending = runEsbuild(target);
    bundles.set(target.file, pending);
    pending.catch(() => bundles.delete(target.file));
  }
  return pending;
}

async function runEsbuild(target: ModuleTarget & { file: string }): Promise<CapturedModule> {
  const esbuild = await import("esbuild");
  try {
    const result = await esbuild.build({
      stdin: {
        contents: `module.exports = require(${JSON.stringify(target.file)});\n`,
        resolveDir: path.dirname(target.file),
        sourcefile: "tswren-module-entry.js",
        loader: "js",
      },
      absWorkingDir: packageOf(target.file)?.root ?? path.dirname(target.file),
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      write: false,
      logLevel: "silent",
      legalComments: "none",
    });
    const source = result.outputFiles[0]?.text ?? "";
    return { hash: createHash("sha256").update(source).digest("hex").slice(0, 32), source };
  } catch (cause) {
    throw new TswrenError(
      ErrorCodes.MODULE_BUNDLE,
      `cannot bundle "${target.specifier}" (${target.file}) for the workers: ${esbuildMessage(cause)}. ` +
        `Packages with native addons (.node files) cannot be shipped with the function; use a runtime that has them installed.`,
      { cause },
    );
  }
}

function esbuildMessage(err: unknown): string {
  const first = (err as { errors?: Array<{ text?: unknown }> } | null)?.errors?.[0]?.text;
  if (typeof first === "string") return first;
  return err instanceof Error ? err.message : String(err);
}
