/**
 * The pinned Python Jupyter tools (JupyterLab, Notebook 7, nbclient, jupyter_client) for tests,
 * installed from PyPI into a private venv by `jupyter.sh install` (once; cached in
 * `$TSWREN_SERVICES_DIR/jupyter-venv`, default `~/.cache/tswren-services/jupyter-venv`).
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "jupyter.sh");

let installing: Promise<string> | undefined;

/**
 * Install the venv when needed.
 * @returns its `bin` directory (holds `python`, `jupyter`, `jupyter-lab`, `jupyter-kernelspec`, ...)
 */
export function jupyterBin(): Promise<string> {
  installing ??= new Promise<string>((resolve, reject) => {
    execFile("bash", [SCRIPT, "install"], { maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const bin = stdout.trim().split("\n").pop() ?? "";
      if (err === null && bin !== "") resolve(bin);
      else reject(new Error(`${SCRIPT} install failed: ${err?.message ?? "no output"}\n${stderr.slice(-4000)}`));
    });
  });
  installing.catch(() => {
    installing = undefined;
  });
  return installing;
}
