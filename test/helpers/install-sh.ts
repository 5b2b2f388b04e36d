/**
 * Test helpers for `install.sh`: a clean PATH made of symlinks (POSIX tools, node, npm), a run of
 * the installer under `dash` with a fresh HOME, and file-tree snapshots to prove what changed.
 */
import { execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** The repository root. */
export const REPO = path.resolve(import.meta.dirname, "../..");

/** The installer under test. */
export const INSTALL_SH = path.join(REPO, "install.sh");

/** The POSIX tools install.sh (and npm, jupyter) may call; each is linked into the clean PATH. */
const TOOLS = ["sh", "dash", "cat", "sed", "grep", "tail", "head", "tr", "mkdir", "rmdir", "rm", "mv", "cp", "ls",
  "dirname", "basename", "tar", "gzip", "cksum", "uname"];

/** The first `name` on the current PATH, or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (process.env["PATH"] ?? "").split(path.delimiter)) {
    const candidate = path.join(dir, name);
    if (dir !== "" && existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** A directory of symlinks `name -> target`. */
function linkDir(dir: string, links: Record<string, string>): string {
  mkdirSync(dir, { recursive: true });
  for (const [name, target] of Object.entries(links)) symlinkSync(target, path.join(dir, name));
  return dir;
}

/** Directories to build clean PATHs from: POSIX tools only, and node + npm only. */
export interface CleanBins {
  /** sh, sed, tar, ... (no node). */
  tools: string;
  /** `node` (this process's node, >= 20.19) and `npm`. */
  node: string;
  /** A fake `node` that says it is v18.20.4, and the real `npm`. */
  node18: string;
}

/**
 * Build the clean bin directories under `root`.
 * @throws when a needed tool or npm is not on this machine's PATH
 */
export function cleanBins(root: string): CleanBins {
  const tools: Record<string, string> = {};
  for (const tool of TOOLS) {
    const found = which(tool);
    if (found === undefined) throw new Error(`install.sh tests need '${tool}' on PATH (Debian: apt-get install ${tool === "dash" ? "dash" : "coreutils"})`);
    tools[tool] = realpathSync(found);
  }
  const npm = which("npm");
  if (npm === undefined) throw new Error("install.sh tests need npm on PATH");
  const npmCli = realpathSync(npm);
  const node18 = path.join(root, "node18-bin");
  linkDir(node18, { npm: npmCli });
  writeFileSync(path.join(node18, "node"), "#!/bin/sh\necho v18.20.4\n", { mode: 0o755 });
  return {
    tools: linkDir(path.join(root, "tools-bin"), tools),
    node: linkDir(path.join(root, "node-bin"), { node: process.execPath, npm: npmCli }),
    node18,
  };
}

/** Environment keys the installer reads or that would leak the caller's setup into it. */
const SCRUBBED = /^(npm_|TSWREN_|JUPYTER_|XDG_|NODE_OPTIONS$|NODE_PATH$|INIT_CWD$)/i;

/** The outcome of one installer run. */
export interface InstallRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** How to run the installer. */
export interface InstallOptions {
  /** The fresh HOME. */
  home: string;
  /** The PATH directories (nothing else is on PATH). */
  path: string[];
  /** Variables set on top of the scrubbed environment (TSWREN_PACKAGE, ...). */
  env?: Record<string, string>;
  /** Arguments of install.sh. */
  args?: string[];
  /** The working directory (default: HOME). */
  cwd?: string;
  /** The script to run (default: the repository's install.sh). */
  script?: string;
}

/**
 * This process's environment without npm, tswren, Jupyter and XDG settings (network settings such
 * as proxies and CA bundles are kept), with HOME and PATH replaced.
 */
export function cleanEnv(home: string, pathDirs: string[]): NodeJS.ProcessEnv {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !SCRUBBED.test(k)));
  return { ...base, HOME: home, PATH: pathDirs.join(path.delimiter) };
}

/**
 * Run `dash install.sh ...args` with HOME, PATH and `env` on top of {@link cleanEnv}. npm uses this
 * machine's npm cache (`npm_config_cache`, preferring cached data), so nothing is fetched twice.
 */
export function runInstaller(options: InstallOptions): Promise<InstallRun> {
  const cache = process.env["npm_config_cache"] ?? path.join(os.homedir(), ".npm");
  const env = { ...cleanEnv(options.home, options.path), npm_config_cache: cache, npm_config_prefer_offline: "true", ...options.env };
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(which("dash") ?? "dash", [options.script ?? INSTALL_SH, ...(options.args ?? [])],
      { cwd: options.cwd ?? options.home, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

/**
 * Every entry under `root` (relative path -> type, size, content hash, and the modification time
 * when `mtimes`), sorted; symlinks are recorded, not followed.
 */
export function snapshot(root: string, mtimes = false): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name);
      const st = lstatSync(full);
      const rel = path.relative(root, full);
      const time = mtimes ? ` ${st.mtimeMs}` : "";
      if (st.isSymbolicLink()) out.push(`${rel} -> ${readlinkSync(full)}`);
      else if (st.isDirectory()) {
        out.push(`${rel}/${time}`);
        walk(full);
      } else out.push(`${rel} ${st.size} ${createHash("sha1").update(readFileSync(full)).digest("hex")}${time}`);
    }
  };
  walk(root);
  return out;
}

/**
 * Run a command; resolve with its stdout (followed by its stderr with `withStderr`), reject with
 * its stderr.
 */
export function run(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; withStderr?: boolean } = {}): Promise<string> {
  const { withStderr, ...execOptions } = options;
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...execOptions, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err === null) resolve(withStderr === true ? stdout + stderr : stdout);
      else reject(new Error(`${file} ${args.join(" ")} failed: ${err.message}\n${stderr.slice(-4000)}`));
    });
  });
}

/**
 * `shellcheck` on PATH, installing the Debian package with apt-get when it is missing.
 * @throws when it is missing and apt-get cannot install it
 */
export async function shellcheckBin(): Promise<string> {
  const found = which("shellcheck");
  if (found !== undefined) return found;
  const sudo = process.getuid?.() === 0 ? [] : ["sudo", "-n"];
  const apt = async (...args: string[]): Promise<string> =>
    sudo.length === 0 ? run("apt-get", args) : run("sudo", [...sudo.slice(1), "apt-get", ...args]);
  try {
    await apt("update", "-q");
    await apt("install", "-y", "-q", "--no-install-recommends", "shellcheck");
  } catch (err) {
    throw new Error(`shellcheck is not installed and apt-get could not install it (apt-get install shellcheck): ${String(err)}`);
  }
  const installed = which("shellcheck");
  if (installed === undefined) throw new Error("apt-get installed shellcheck but it is not on PATH");
  return installed;
}
