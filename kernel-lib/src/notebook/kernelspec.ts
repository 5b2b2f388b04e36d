/**
 * The `tswren` kernelspec: `kernels/tswren/kernel.json` in a Jupyter data directory, starting
 * this package's `bin/tswren.js kernel` with absolute paths (no PATH lookup at kernel start),
 * with `"interrupt_mode": "message"` (Jupyter sends `interrupt_request` instead of SIGINT to the
 * kernel's process group) and the kernel's logo (`logo-32x32.png`, `logo-64x64.png`).
 */
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
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
  /** Always `message`: interrupts arrive as `interrupt_request`, never as a signal to the kernel's group. */
  interrupt_mode: "message";
}

/** The logo files copied next to `kernel.json` (shipped in the package's `kernelspec/` folder). */
export const KERNEL_LOGOS = ["logo-32x32.png", "logo-64x64.png"] as const;

/** Where to install: the user's Jupyter data dir (default), `<prefix>/share/jupyter`, or a data dir. */
export interface InstallTarget {
  prefix?: string;
  dataDir?: string;
}

/** The kernelspec for this installation of tswren (this node, this package's bin). */
export function kernelSpec(): KernelSpec {
  const bin = fileURLToPath(new URL("../../bin/tswren.js", import.meta.url));
  return { argv: [process.execPath, bin, "kernel", "--config-path", "{connection_file}"], display_name: "TypeScript (tswren)", language: "typescript", interrupt_mode: "message" };
}

/** The user's Jupyter data dir: `$JUPYTER_DATA_DIR`, else `${XDG_DATA_HOME:-~/.local/share}/jupyter`. */
export function userJupyterDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env["JUPYTER_DATA_DIR"]) return env["JUPYTER_DATA_DIR"];
  return join(env["XDG_DATA_HOME"] || join(homedir(), ".local", "share"), "jupyter");
}

/**
 * Write `kernels/tswren/kernel.json` and the logos into the chosen Jupyter data dir.
 * @returns the path of the written `kernel.json`
 * @example installKernelSpec({ dataDir: "/tmp/jupyter" }) // "/tmp/jupyter/kernels/tswren/kernel.json"
 */
export function installKernelSpec(target: InstallTarget = {}): string {
  const dataDir = target.dataDir ?? (target.prefix !== undefined ? join(target.prefix, "share", "jupyter") : userJupyterDataDir());
  const dir = join(dataDir, "kernels", KERNEL_NAME);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "kernel.json");
  writeFileSync(file, `${JSON.stringify(kernelSpec(), null, 2)}\n`);
  for (const logo of KERNEL_LOGOS) copyFileSync(fileURLToPath(new URL(`../../kernelspec/${logo}`, import.meta.url)), join(dir, logo));
  return file;
}
