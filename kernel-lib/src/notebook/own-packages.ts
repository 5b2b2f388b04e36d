/**
 * A notebook folder usually has no `node_modules` (hosted notebooks, a home directory): make
 * `import ... from "tswren"` and Node's types resolve from the kernel's own installation, both for
 * tslab's type checker and at run time, without writing anything into the user's folder. A
 * `node_modules/tswren` or `@types/node` the user has next to the notebook still wins.
 */
import { existsSync } from "node:fs";
import Module, { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The parts of TypeScript's `sys` that read the file system (tslab's bundled TypeScript). */
interface FileSystemHost {
  readFile: (p: string, encoding?: string) => string | undefined;
  fileExists: (p: string) => boolean;
  directoryExists: (p: string) => boolean;
  getDirectories: (p: string) => string[];
  realpath?: (p: string) => string;
}

type Resolver = (request: string, parent: unknown, isMain: boolean, options?: unknown) => string;

/** The tswren package's root (this file is `<root>/dist/notebook/own-packages.js`). */
function ownPackageDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
}

/** The `node_modules` folder that holds this tswren and its dependencies (an install or a checkout). */
function ownNodeModules(): string | undefined {
  for (let dir = path.dirname(ownPackageDir()); ; dir = path.dirname(dir)) {
    if (path.basename(dir) === "node_modules" && existsSync(path.join(dir, "tswren"))) return dir;
    if (existsSync(path.join(dir, "node_modules", "tswren"))) return path.join(dir, "node_modules");
    if (path.dirname(dir) === dir) return undefined;
  }
}

/**
 * Make tslab's type checker (it reads through TypeScript's `sys`) see `from` as an overlay: a
 * path under it that does not exist is read from the same place under `to`.
 */
function overlayTypeScript(sys: FileSystemHost, from: string, to: string): void {
  const real = { ...sys };
  const exists = (p: string): boolean => real.fileExists(p) || real.directoryExists(p);
  const fwd = (p: string): string => (p.startsWith(`${from}/`) && !exists(p) ? to + p.slice(from.length) : p);
  sys.readFile = (p, encoding) => real.readFile(fwd(p), encoding);
  sys.fileExists = (p) => real.fileExists(fwd(p));
  sys.directoryExists = (p) => real.directoryExists(fwd(p));
  sys.getDirectories = (p) => real.getDirectories(fwd(p));
  // Keep overlaid paths virtual: resolving them to the real folder would give one file two names.
  const realpath = real.realpath;
  if (realpath !== undefined) sys.realpath = (p) => (fwd(p) === p ? realpath(p) : p);
}

/** At run time, `require("tswren")` from a cell falls back to this installation. */
function forwardRequire(): void {
  const loader = Module as unknown as { _resolveFilename: Resolver };
  const original = loader._resolveFilename;
  const own = createRequire(import.meta.url);
  loader._resolveFilename = function resolveWithOwnTswren(this: unknown, request, parent, isMain, options) {
    try {
      return original.call(this, request, parent, isMain, options);
    } catch (err) {
      if (request === "tswren" || request.startsWith("tswren/")) return own.resolve(request);
      throw err;
    }
  };
}

/**
 * Share the kernel's own `tswren` (and its dependencies and `@types`) with notebooks in `cwd`;
 * call once, before tslab's converter is created.
 * @param cwd - the kernel's working directory (the notebook's folder)
 */
export function shareOwnPackages(cwd: string): void {
  const own = ownNodeModules();
  const local = path.join(cwd, "node_modules");
  if (own !== undefined && own !== local) {
    const tslabRequire = createRequire(createRequire(import.meta.url).resolve("tslab/dist/converter.js"));
    overlayTypeScript((tslabRequire("@tslab/typescript-for-tslab") as { sys: FileSystemHost }).sys, local, own);
  }
  forwardRequire();
}
