/**
 * The `tswren` kernelspec: `kernels/tswren/kernel.json` in a Jupyter data directory, starting
 * this package's `bin/tswren.js kernel` with absolute paths (no PATH lookup at kernel start).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** Kernelspec name (the folder under `kernels/`). */
export const KERNEL_NAME = "tswren";

/** Contents of `kernel.json`. */
export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
}

/** Where to install: the user's Jupyter data dir (default), `<prefix>/share/jupyter`, or a data dir. */
export interface InstallTarget {
  prefix?: string;
  dataDir?: string;
}

/** The kernelspec for this installation of tswren (this node, this package's bin). */
export function kernelSpec(): KernelSpec {
  const bin = fileURLToPath(new URL("../../bin/tswren.js", import.meta.url));
  return { argv: [process.execPath, bin, "kernel", "--config-path", "{connection_file}"], display_name: "TypeScript (tswren)", language: "typescript" };
}

/** The user's Jupyter data dir: `$JUPYTER_DATA_DIR`, else `${XDG_DATA_HOME:-~/.local/share}/jupyter`. */
export function userJupyterDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env["JUPYTER_DATA_DIR"]) return env["JUPYTER_DATA_DIR"];
  return join(env["XDG_DATA_HOME"] || join(homedir(), ".local", "share"), "jupyter");
}

/**
 * Write `kernels/tswren/kernel.json` into the chosen Jupyter data dir.
 * @returns the path of the written `kernel.json`
 * @example installKernelSpec({ dataDir: "/tmp/jupyter" }) // "/tmp/jupyter/kernels/tswren/kernel.json"
 */
export function installKernelSpec(target: InstallTarget = {}): string {
  const dataDir = target.dataDir ?? (target.prefix !== undefined ? join(target.prefix, "share", "jupyter") : userJupyterDataDir());
  const dir = join(dataDir, "kernels", KERNEL_NAME);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "kernel.json");
  writeFileSync(file, `${JSON.stringify(kernelSpec(), null, 2)}\n`);
  return file;
}
