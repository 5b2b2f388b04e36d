/**
 * Functions named as a module and an export (`jobs/wordcount.ts#countWords`) for the CLI job
 * commands: the module is bundled with esbuild (TypeScript too) into one CommonJS file with its
 * local imports and npm packages, loaded here, and the export is wrapped in a small function
 * that tswren's capture ships together with that whole module bundle (so module-level helpers,
 * constants and imports work on the workers exactly as in the file).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import * as path from "node:path";
import type { Plugin } from "esbuild";
import { ErrorCodes, TswrenError } from "./errors.js";

/** A function named by module file and export. */
export interface JobFunctionRef {
  /** Module path as given (relative to the root, or absolute). */
  module: string;
  /** Export name. */
  exportName: string;
}

/** Options of {@link loadJobModule}. */
export interface LoadModuleOptions {
  /** Folder relative module paths resolve from. */
  root: string;
  /** Folder for the bundled modules (a `node_modules` folder is made inside it). */
  workDir: string;
  /** When non-empty, the only npm packages the module may bundle. */
  includeModules: readonly string[];
  /** npm packages left out of the bundle: using them on a worker throws. */
  excludeModules: readonly string[];
}

/**
 * Parse `--module M --export E`, or `--module M#E`.
 * @param module - the module option (may hold `#export`)
 * @param exportName - the export option
 * @param what - the option names for messages, e.g. `--module/--export`
 * @throws TswrenError `TSWREN_BAD_OPTION` when the module or export is missing or given twice
 */
export function parseFunctionRef(module: string | undefined, exportName: string | undefined, what: string): JobFunctionRef {
  if (module === undefined || module === "") {
    throw new TswrenError(ErrorCodes.BAD_OPTION, `${what}: name the function's module, e.g. --module jobs/wordcount.ts#countWords`);
  }
  const hash = module.lastIndexOf("#");
  const file = hash >= 0 ? module.slice(0, hash) : module;
  const fromHash = hash >= 0 ? module.slice(hash + 1) : undefined;
  if (fromHash !== undefined && exportName !== undefined && fromHash !== exportName) {
    throw new TswrenError(ErrorCodes.BAD_OPTION, `${what}: the export is given twice (${JSON.stringify(fromHash)} after # and ${JSON.stringify(exportName)}); give it once`);
  }
  const name = fromHash ?? exportName ?? "default";
  if (!/^[A-Za-z_$][\w$]*$/.test(name)) {
    throw new TswrenError(ErrorCodes.BAD_OPTION, `${what}: ${JSON.stringify(name)} is not an export name; use e.g. ${file}#countWords`);
  }
  return { module: file, exportName: name };
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

/** esbuild plugin: refuse packages outside `includeModules`, stub those in `excludeModules`. */
function modulesPlugin(options: LoadModuleOptions): Plugin {
  return {
    name: "tswren-job-modules",
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith("node:") || args.kind === "entry-point") return undefined;
        const name = packageName(args.path);
        if (options.excludeModules.includes(name)) return { path: name, namespace: "tswren-excluded" };
        if (options.includeModules.length > 0 && !options.includeModules.includes(name) && !args.importer.includes("/node_modules/")) {
          return { errors: [{ text: `package "${name}" is not in include_modules (${options.includeModules.join(", ")}); add it there or stop importing it` }] };
        }
        return undefined;
      });
      build.onLoad({ filter: /.*/, namespace: "tswren-excluded" }, (args) => ({
        contents: `const msg = ${JSON.stringify(`package "${args.path}" was left out of the function bundle (exclude_modules); it cannot be used on the workers`)};\n` +
          "module.exports = new Proxy(function () {}, { get(t, k) { if (k === '__esModule') return false; throw new Error(msg); }, apply() { throw new Error(msg); } });\n",
        loader: "js",
      }));
    },
  };
}

function esbuildMessage(err: unknown): string {
  const first = (err as { errors?: Array<{ text?: unknown; location?: { file?: string; line?: number } | null }> } | null)?.errors?.[0];
  if (typeof first?.text === "string") return `${first.text}${first.location?.file ? ` (${first.location.file}:${first.location.line ?? "?"})` : ""}`;
  return err instanceof Error ? err.message : String(err);
}

async function bundleFile(file: string, options: LoadModuleOptions): Promise<string> {
  const esbuild = await import("esbuild");
  try {
    const result = await esbuild.build({
      entryPoints: [file], bundle: true, platform: "node", format: "cjs", target: "node20",
      write: false, logLevel: "silent", legalComments: "none", plugins: [modulesPlugin(options)],
    });
    return result.outputFiles[0]?.text ?? "";
  } catch (cause) {
    throw new TswrenError(ErrorCodes.MODULE_BUNDLE, `cannot bundle ${file}: ${esbuildMessage(cause)}`, { cause });
  }
}

function functionExports(exports: Record<string, unknown>): string[] {
  return Object.keys(exports).filter((k) => typeof exports[k] === "function");
}

/**
 * Bundle and load the module of `ref`, and check that its export is a function.
 * @returns the loaded module (its exports object, recognised by capture as a bundled module)
 * @throws TswrenError `TSWREN_BAD_INPUT` for a missing file or export,
 *   `TSWREN_MODULE_BUNDLE` when esbuild cannot bundle it or a package is refused
 */
export async function loadJobModule(ref: JobFunctionRef, options: LoadModuleOptions): Promise<Record<string, unknown>> {
  const file = path.resolve(options.root, ref.module);
  if (!existsSync(file)) {
    throw new TswrenError(ErrorCodes.BAD_INPUT, `module ${JSON.stringify(ref.module)} not found: ${file} does not exist (relative modules resolve from ${options.root}; pass --root <dir>)`);
  }
  const source = await bundleFile(file, options);
  const hash = createHash("sha256").update(source).digest("hex").slice(0, 16);
  const base = path.basename(file).replace(/\.[^.]*$/, "").replace(/[^\w-]/g, "_").toLowerCase();
  const dir = path.join(options.workDir, "node_modules", `tswren-job-${base}-${hash}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name: path.basename(dir), main: "index.js" }));
  writeFileSync(path.join(dir, "index.js"), source);
  let exports: Record<string, unknown>;
  try {
    exports = createRequire(path.join(dir, "index.js"))(path.join(dir, "index.js")) as Record<string, unknown>;
  } catch (cause) {
    throw new TswrenError(ErrorCodes.BAD_INPUT, `module ${ref.module} failed while loading: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
  if (typeof exports[ref.exportName] !== "function") {
    const found = functionExports(exports);
    throw new TswrenError(
      ErrorCodes.BAD_INPUT,
      `module ${ref.module} has no exported function ${JSON.stringify(ref.exportName)}; its exported functions: ${found.length > 0 ? found.join(", ") : "none"}`,
    );
  }
  return exports;
}

type Exported = (input: unknown, ctx: unknown) => unknown;
declare const tswrenMapModule: Record<string, Exported>;
declare const tswrenMapExport: string;
declare const tswrenReduceModule: Record<string, Exported>;
declare const tswrenReduceExport: string;

/**
 * The function tswren ships for a map (or call) export: it calls the export of the module
 * bundle, which capture ships as a content-hashed module (uploaded once).
 * @returns the function and the captures it needs
 */
export function mapFunctionFor(module: Record<string, unknown>, exportName: string): { fn: Exported; capture: Record<string, unknown> } {
  const named: Record<string, Exported> = { [exportName]: function (item: unknown, ctx: unknown) { return tswrenMapModule[tswrenMapExport]?.(item, ctx); } };
  return { fn: named[exportName], capture: { tswrenMapModule: module, tswrenMapExport: exportName } };
}

/** Like {@link mapFunctionFor}, for the reducer (other capture names, so both fit one job). */
export function reduceFunctionFor(module: Record<string, unknown>, exportName: string): { fn: Exported; capture: Record<string, unknown> } {
  const named: Record<string, Exported> = { [exportName]: function (results: unknown, ctx: unknown) { return tswrenReduceModule[tswrenReduceExport]?.(results, ctx); } };
  return { fn: named[exportName], capture: { tswrenReduceModule: module, tswrenReduceExport: exportName } };
}
