/**
 * A real JupyterLab 4 server (the pinned venv of `jupyter.sh`, which also serves Notebook 7's
 * pages) for browser tests: 127.0.0.1, a free port, a random token, and private Jupyter
 * data/config/runtime directories holding the given lab extensions and one kernelspec. It runs
 * supervised (see `supervised.ts`), so it never outlives the test process.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "../helpers/ports.js";
import { jupyterBin } from "./jupyter.js";
import { startSupervised } from "./supervised.js";

/** What the server serves. */
export interface JupyterLabOptions {
  /** The server's root directory (notebooks are opened relative to it). */
  rootDir: string;
  /**
   * Kernelspec to install: its name (as in the notebook's metadata), `kernel.json` argv, and
   * `interrupt_mode` (`message` as the tswren kernelspec has it; Jupyter's default is `signal`).
   */
  kernel: { name: string; displayName: string; language: string; argv: string[]; interruptMode?: "message" | "signal" };
  /** Prebuilt lab extensions to install by copying: npm name -> built folder. */
  labextensions: Record<string, string>;
}

/** A running server. */
export interface JupyterLabServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  token: string;
  /** The environment the server runs with (for `jupyter ...` commands against the same dirs). */
  env: NodeJS.ProcessEnv;
  /** The venv's bin directory. */
  bin: string;
  /** The server's last output. */
  output(): string;
  /** Stops the server (and its kernels) and removes its private directories. */
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Start JupyterLab; resolves when `/api/status` answers (rejects with its output after 90 s). */
export async function startJupyterLab(opts: JupyterLabOptions): Promise<JupyterLabServer> {
  const bin = await jupyterBin();
  const dir = mkdtempSync(path.join(tmpdir(), "tswren-jupyterlab-"));
  const dirs = {
    JUPYTER_DATA_DIR: path.join(dir, "data"),
    JUPYTER_CONFIG_DIR: path.join(dir, "config"),
    JUPYTER_RUNTIME_DIR: path.join(dir, "runtime"),
    JUPYTERLAB_SETTINGS_DIR: path.join(dir, "settings"),
    JUPYTERLAB_WORKSPACES_DIR: path.join(dir, "workspaces"),
    IPYTHONDIR: path.join(dir, "ipython"),
  };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  // Install by copy, exactly as a user (or install.sh) does.
  for (const [name, built] of Object.entries(opts.labextensions)) {
    cpSync(built, path.join(dirs.JUPYTER_DATA_DIR, "labextensions", name), { recursive: true });
  }
  const { name, displayName, language, argv, interruptMode } = opts.kernel;
  const specDir = path.join(dirs.JUPYTER_DATA_DIR, "kernels", name);
  mkdirSync(specDir, { recursive: true });
  writeFileSync(path.join(specDir, "kernel.json"), JSON.stringify({ argv, display_name: displayName, language, ...(interruptMode ? { interrupt_mode: interruptMode } : {}) }, null, 1));
  // No news/update pop-ups over the notebook.
  mkdirSync(path.join(dirs.JUPYTER_CONFIG_DIR, "labconfig"), { recursive: true });
  writeFileSync(
    path.join(dirs.JUPYTER_CONFIG_DIR, "labconfig", "page_config.json"),
    JSON.stringify({ disabledExtensions: { "@jupyterlab/apputils-extension:announcements": true } }),
  );

  const port = await freePort();
  const token = randomBytes(16).toString("hex");
  const url = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { ...process.env, ...dirs, PATH: `${bin}${path.delimiter}${process.env["PATH"] ?? ""}` };
  const server = await startSupervised({
    name: "jupyter-lab",
    command: path.join(bin, "jupyter-lab"),
    args: [
      "--no-browser",
      "--allow-root", // CI runs as root
      "--ServerApp.ip=127.0.0.1",
      `--ServerApp.port=${port}`,
      "--ServerApp.port_retries=0",
      `--IdentityProvider.token=${token}`,
      `--ServerApp.root_dir=${opts.rootDir}`,
      "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ],
    env,
    cwd: opts.rootDir,
    dir,
    ready: () => answers(`${url}/api/status?token=${token}`),
    readyTimeoutMs: 90_000,
  });
  return { url, token, env, bin, output: server.output, stop: server.stop };
}

/** Run `jupyter <args>` against the server's directories; resolves to stdout + stderr. */
export function jupyterCommand(server: JupyterLabServer, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(path.join(server.bin, "jupyter"), args, { env: server.env, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err === null) resolve(`${stdout}${stderr}`);
      else reject(new Error(`jupyter ${args.join(" ")} failed: ${err.message}\n${stderr}`));
    });
  });
}
