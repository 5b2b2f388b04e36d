import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { stripVTControlCharacters } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { jupyterBin } from "../services/jupyter.js";
import { tempDir } from "../helpers/executor.js";
import { startStaticRegistry, type PublishedPackage, type StaticRegistry } from "../helpers/npm-registry.js";
import { cleanBins, cleanEnv, INSTALL_SH, REPO, run, runInstaller, shellcheckBin, snapshot, which, type CleanBins,
  type InstallRun } from "../helpers/install-sh.js";

// install.sh end to end under dash: a fresh HOME, a PATH holding only POSIX tools, node, npm and the
// pinned Jupyter tools, and the tswren package from a local `npm pack` (its dependencies come from
// the registry through this machine's npm cache).

const work = tempDir("install-sh");
let bins: CleanBins;
let jupyter: string;
let tarball: string;
let version: string;

beforeAll(async () => {
  if (!existsSync(path.join(REPO, "kernel-lib/dist/cli.js"))) throw new Error("kernel-lib is not built: run `npm run build` first");
  version = (JSON.parse(readFileSync(path.join(REPO, "kernel-lib/package.json"), "utf8")) as { version: string }).version;
  const packDir = path.join(work, "pack");
  mkdirSync(packDir);
  const packed = await run(which("npm") ?? "npm", ["pack", "-w", "tswren", "--pack-destination", packDir, "--silent"], { cwd: REPO });
  tarball = path.join(packDir, packed.trim().split("\n").pop() ?? "");
  bins = cleanBins(work);
  jupyter = await jupyterBin();
}, 300_000);

/** A new empty directory under the suite's temporary folder. */
function fresh(name: string): string {
  const dir = path.join(work, name);
  mkdirSync(dir);
  return dir;
}

/** The installer's message is on stderr and names the problem; the exit code is the documented one. */
function expectFailure(result: InstallRun, code: number, message: RegExp): void {
  expect(result.stderr, result.stdout).toMatch(message);
  expect(result.stderr).toMatch(/^tswren install: error: /m);
  expect(result.code).toBe(code);
}

describe("install.sh into a fresh HOME from a local npm pack tarball", () => {
  let home: string;
  let cwd: string;
  let before: string[];
  let PATH: string[];
  const env = (): Record<string, string> => ({ TSWREN_PACKAGE: tarball });
  const dataDir = (): string => path.join(home, ".local/share/jupyter");
  const prefix = (): string => path.join(home, ".local/share/tswren");

  beforeAll(() => {
    home = fresh("home");
    cwd = fresh("cwd");
    PATH = [bins.node, bins.tools, jupyter];
    // Things of the user's own that the installer must leave alone.
    mkdirSync(path.join(home, ".local/share/jupyter/kernels/other"), { recursive: true });
    writeFileSync(path.join(home, ".local/share/jupyter/kernels/other/kernel.json"),
      JSON.stringify({ argv: ["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"], display_name: "Other", language: "python" }));
    writeFileSync(path.join(home, ".local/share/notes.txt"), "mine\n");
    writeFileSync(path.join(home, ".profile"), "# mine\n");
    before = snapshot(home);
  });

  it("installs the package, tslab, a kernelspec with absolute paths and the JupyterLab extension", async () => {
    const result = await runInstaller({ home, cwd, path: PATH, env: env() });
    console.log(`install.sh from a tarball into a fresh HOME (shared npm cache): ${(result.ms / 1000).toFixed(1)} s`);
    expect(result.code, result.stderr).toBe(0);
    const entry = path.join(prefix(), "node_modules/tswren/bin/tswren.js");
    // The same bytes as `tswren kernel install` writes.
    const spec = { argv: [process.execPath, entry, "kernel", "--config-path", "{connection_file}"], display_name: "TypeScript (tswren)", language: "typescript", interrupt_mode: "message" };
    expect(readFileSync(path.join(dataDir(), "kernels/tswren/kernel.json"), "utf8")).toBe(`${JSON.stringify(spec, null, 2)}\n`);
    for (const logo of ["logo-32x32.png", "logo-64x64.png"]) expect(existsSync(path.join(dataDir(), "kernels/tswren", logo)), logo).toBe(true);
    expect(await run(process.execPath, [entry, "--version"])).toBe(`${version}\n`);
    const tslab = JSON.parse(readFileSync(path.join(prefix(), "node_modules/tslab/package.json"), "utf8")) as { version: string };
    expect(tslab.version).toBe("1.0.22");
    const labext = path.join(dataDir(), "labextensions/@tswren/jupyterlab-progress/package.json");
    expect((JSON.parse(readFileSync(labext, "utf8")) as { name: string }).name).toBe("@tswren/jupyterlab-progress");
    expect(result.stdout).toContain(`tswren ${version} installed`);
    expect(result.stdout).toContain(path.join(dataDir(), "kernels/tswren"));
    expect(result.stdout).toMatch(/reload the JupyterLab page.*"TypeScript \(tswren\)"/);
    expect(snapshot(cwd)).toEqual([]);
  }, 600_000);

  it("takes the fast path on a second run and changes nothing", async () => {
    const installed = snapshot(home, true);
    const result = await runInstaller({ home, cwd, path: PATH, env: env() });
    console.log(`install.sh second run (fast path): ${result.ms.toFixed(0)} ms`);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toMatch(new RegExp(`tswren ${version} is already installed .*nothing changed`));
    expect(snapshot(home, true)).toEqual(installed);
  }, 120_000);

  it("reinstalls with TSWREN_FORCE=1 and when the kernelspec was edited", async () => {
    writeFileSync(path.join(dataDir(), "kernels/tswren/kernel.json"), "{}");
    const repaired = await runInstaller({ home, cwd, path: PATH, env: env() });
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.stdout).toContain(`tswren ${version} installed`);
    expect(readFileSync(path.join(dataDir(), "kernels/tswren/kernel.json"), "utf8")).toContain(process.execPath);
    const forced = await runInstaller({ home, cwd, path: PATH, env: { ...env(), TSWREN_FORCE: "1" } });
    console.log(`install.sh reinstall (TSWREN_FORCE=1, warm npm cache): ${(forced.ms / 1000).toFixed(1)} s`);
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain(`tswren ${version} installed`);
  }, 600_000);

  it("--uninstall leaves the HOME exactly as it was, the user's own files included", async () => {
    const result = await runInstaller({ home, cwd, path: PATH, args: ["--uninstall"] });
    expect(result.code, result.stderr).toBe(0);
    expect(snapshot(home)).toEqual(before);
    expect(snapshot(cwd)).toEqual([]);
    const again = await runInstaller({ home, cwd, path: PATH, args: ["--uninstall"] });
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/nothing to remove/);
  }, 120_000);

  describe("installed again, seen by Jupyter", () => {
    beforeAll(async () => {
      const result = await runInstaller({ home, cwd, path: PATH, env: env() });
      if (result.code !== 0) throw new Error(`install.sh failed (${result.code}):\n${result.stderr}`);
    }, 600_000);

    const jupyterEnv = (): NodeJS.ProcessEnv => cleanEnv(home, [bins.node, jupyter, bins.tools]);

    it("jupyter kernelspec list shows the tswren kernel in the user's data directory", async () => {
      const listed = JSON.parse(await run(path.join(jupyter, "jupyter-kernelspec"), ["list", "--json"], { env: jupyterEnv() })) as {
        kernelspecs: Record<string, { resource_dir: string; spec: { display_name: string } }>;
      };
      expect(listed.kernelspecs["tswren"]?.resource_dir).toBe(path.join(dataDir(), "kernels/tswren"));
      expect(listed.kernelspecs["tswren"]?.spec.display_name).toBe("TypeScript (tswren)");
    });

    it("jupyter labextension list shows @tswren/jupyterlab-progress enabled", async () => {
      // It prints the list on stderr, in color.
      const listed = stripVTControlCharacters(await run(path.join(jupyter, "jupyter-labextension"), ["list"], { env: jupyterEnv(), withStderr: true }));
      expect(listed).toContain(path.join(dataDir(), "labextensions"));
      expect(listed).toMatch(/@tswren\/jupyterlab-progress v\S+ enabled OK/);
    });

    it("nbclient executes notebooks/quickstart.ipynb on the installed kernel", async () => {
      const nbDir = fresh("notebook");   // outside the repository: nothing resolves from its node_modules
      copyFileSync(path.join(REPO, "notebooks/quickstart.ipynb"), path.join(nbDir, "quickstart.ipynb"));
      const script = [
        "import json, sys, nbformat, nbclient",
        "nb = nbformat.read(sys.argv[1], as_version=4)",
        "nbclient.NotebookClient(nb, kernel_name='tswren', timeout=180, resources={'metadata': {'path': sys.argv[2]}}).execute()",
        "print(json.dumps([c.get('outputs', []) for c in nb.cells if c.cell_type == 'code']))",
      ].join("\n");
      const env = { ...jupyterEnv(), TSWREN_CONFIG: JSON.stringify({ localhost_storage: { storage_root: fresh("storage") } }) };
      const cells = JSON.parse(await run(path.join(jupyter, "python"), ["-c", script, path.join(nbDir, "quickstart.ipynb"), nbDir], { env })) as
        Array<Array<{ output_type: string; name?: string; text?: string; data?: Record<string, unknown> }>>;
      const outputs = cells.flat();
      // A value shows as printed text (tslab) or as an execute_result / display's text/plain.
      const text = outputs.map((o) => o.text ?? (typeof o.data?.["text/plain"] === "string" ? `${o.data["text/plain"]}\n` : "")).join("");
      expect(outputs.filter((o) => o.output_type === "error" || o.name === "stderr")).toEqual([]);
      expect(text).toMatch(/^localhost: \d+ worker processes/m);
      for (const value of [/^\[ 8, 9, 10, 11 \]$/m, /^10$/m, /^38$/m]) expect(text).toMatch(value);
      expect(text).toMatch(/^pi ~ 3\.1\d\d; first call's log: call 0 estimating with 200000 samples$/m);
      expect(text).toContain("[ 1, null, 3 ]");
    }, 300_000);
  });
});

describe("install.sh refuses bad setups with a clear message and leaves nothing behind", () => {
  interface BadCase { name: string; path: () => string[]; env: () => Record<string, string>; args?: string[]; code: number; message: RegExp }
  const cases: BadCase[] = [
    { name: "no node on PATH", path: () => [bins.tools], env: () => ({ TSWREN_PACKAGE: tarball }), code: 3,
      message: /'node' is not on PATH.*nodejs\.org/ },
    { name: "node 18", path: () => [bins.node18, bins.tools], env: () => ({ TSWREN_PACKAGE: tarball }), code: 3,
      message: /Node\.js 18\.20\.4 is too old.*>= 20\.19/ },
    { name: "a prefix that cannot be created", path: () => [bins.node, bins.tools],
      env: () => ({ TSWREN_PACKAGE: tarball, TSWREN_PREFIX: `${tarball}/tswren` }), code: 4, message: /cannot create .*is not a directory/ },
    { name: "a missing tarball", path: () => [bins.node, bins.tools], env: () => ({ TSWREN_PACKAGE: path.join(work, "nope.tgz") }),
      code: 5, message: /nope\.tgz' does not exist/ },
    { name: "a tarball that is not tswren", path: () => [bins.node, bins.tools], env: () => ({ TSWREN_PACKAGE: INSTALL_SH }),
      code: 5, message: /is not an npm tarball of the tswren package/ },
    { name: "a version other than the tarball's", path: () => [bins.node, bins.tools], env: () => ({ TSWREN_PACKAGE: tarball }),
      args: ["9.9.9"], code: 2, message: /version 9\.9\.9 was asked for but TSWREN_PACKAGE holds tswren/ },
    { name: "an unknown option", path: () => [bins.node, bins.tools], env: () => ({}), args: ["--frobnicate"], code: 2,
      message: /unknown option '--frobnicate'/ },
  ];

  for (const c of cases) {
    it(`${c.name}: exit ${c.code}`, async () => {
      const home = fresh(`bad-${c.name.replace(/\W+/g, "-")}`);
      expectFailure(await runInstaller({ home, path: c.path(), env: c.env(), args: c.args ?? [] }), c.code, c.message);
      expect(snapshot(home)).toEqual([]);
    });
  }

  it("a prefix in a read-only directory: exit 4", async (ctx) => {
    if (process.getuid?.() === 0) ctx.skip("root writes into read-only directories; the case above covers root");
    const home = fresh("bad-read-only");
    mkdirSync(path.join(home, "ro"), { mode: 0o555 });
    const result = await runInstaller({ home, path: [bins.node, bins.tools], env: { TSWREN_PACKAGE: tarball, TSWREN_PREFIX: path.join(home, "ro/tswren") } });
    expectFailure(result, 4, /cannot create .*ro\/tswren .*is not writable/);
    expect(snapshot(home)).toEqual(["ro/"]);
  });

  it("a kernels/tswren folder the installer did not write: exit 4, left as it was", async () => {
    const home = fresh("bad-foreign-kernel");
    mkdirSync(path.join(home, ".local/share/jupyter/kernels/tswren"), { recursive: true });
    writeFileSync(path.join(home, ".local/share/jupyter/kernels/tswren/kernel.json"), '{"argv": ["mine"], "display_name": "Mine"}');
    const before = snapshot(home);
    const result = await runInstaller({ home, path: [bins.node, bins.tools], env: { TSWREN_PACKAGE: tarball } });
    expectFailure(result, 4, /kernels\/tswren exists and was not installed by this installer; .*TSWREN_FORCE=1/);
    expect(snapshot(home)).toEqual(before);
  });

  it("npm failing mid-install (a dependency that cannot be resolved): exit 5, the created folders removed", async () => {
    const home = fresh("bad-npm");
    const pkg = fresh("bad-package");
    mkdirSync(path.join(pkg, "package/bin"), { recursive: true });
    writeFileSync(path.join(pkg, "package/package.json"), JSON.stringify({ name: "tswren", version: "0.0.1", bin: { tswren: "bin/tswren.js" },
      dependencies: { "tswren-missing-dep": `file:${path.join(pkg, "missing.tgz")}` } }));
    writeFileSync(path.join(pkg, "package/bin/tswren.js"), "");
    await run(which("tar") ?? "tar", ["-czf", path.join(pkg, "bad.tgz"), "-C", pkg, "package"]);
    const result = await runInstaller({ home, path: [bins.node, bins.tools], env: { TSWREN_PACKAGE: path.join(pkg, "bad.tgz") } });
    expectFailure(result, 5, /npm could not install .*bad\.tgz/);
    expect(snapshot(home)).toEqual([]);
  }, 120_000);

  it("a download cut short runs nothing: the body is one function called on the last line", async () => {
    const home = fresh("truncated");
    const text = readFileSync(INSTALL_SH, "utf8");
    const cut = path.join(work, "install-truncated.sh");
    writeFileSync(cut, text.slice(0, Math.floor(text.length * 0.6)));
    const result = await runInstaller({ home, path: [bins.node, bins.tools], env: { TSWREN_PACKAGE: tarball }, script: cut });
    expect(result.stdout).toBe("");
    expect(result.stderr).not.toMatch(/^tswren/m);
    expect(snapshot(home)).toEqual([]);
  });
});

describe("install.sh source", () => {
  it("passes shellcheck (POSIX sh)", async () => {
    const shellcheck = await shellcheckBin();
    expect(await run(shellcheck, ["--shell=sh", "--severity=style", INSTALL_SH])).toBe("");
  }, 300_000);
});

// The registry path (`npm view`, `npm install tswren@VERSION` with npm's integrity check) against a
// registry on 127.0.0.1 serving tiny test-built `tswren` and `tslab` packages: tswren is not on the
// public registry yet, and a broken tarball cannot be published there. The real package is tested
// from its tarball above.
describe("install.sh from an npm registry (a static one on 127.0.0.1 with test-built packages)", () => {
  const fakeTswren = (version: string): PublishedPackage => ({
    manifest: { name: "tswren", version, bin: { tswren: "bin/tswren.js" }, dependencies: { tslab: "1.0.22" } },
    files: { "bin/tswren.js": `#!/usr/bin/env node\nif (process.argv[2] === "--version") console.log(${JSON.stringify(version)});\n` },
  });
  const fakeTslab: PublishedPackage = { manifest: { name: "tslab", version: "1.0.22" } };
  let registry: StaticRegistry;
  let home: string;
  let PATH: string[];
  const env = (): Record<string, string> => ({ npm_config_registry: registry.url, npm_config_cache: path.join(home, "..", "npm-cache") });

  beforeAll(async () => {
    registry = await startStaticRegistry([fakeTslab, fakeTswren("0.1.9"), fakeTswren("0.2.0")], fresh("registry"));
    fresh("registry-case");
    home = fresh("registry-case/home");
    PATH = [bins.node, bins.tools, jupyter];
    return () => registry.close();
  });

  it("with no version installs the latest release, integrity-checked by npm, and warns that it has no extension", async () => {
    const result = await runInstaller({ home, path: PATH, env: env() });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain("tswren 0.2.0 installed");
    expect(result.stderr).toMatch(/warning: tswren 0\.2\.0 ships no JupyterLab extension/);
    const lock = JSON.parse(readFileSync(path.join(home, ".local/share/tswren/package-lock.json"), "utf8")) as {
      packages: Record<string, { version: string; integrity?: string }>;
    };
    expect(lock.packages["node_modules/tswren"]).toMatchObject({ version: "0.2.0", integrity: expect.stringMatching(/^sha512-/) as unknown });
    expect(existsSync(path.join(home, ".local/share/jupyter/kernels/tswren/kernel.json"))).toBe(true);
    expect(existsSync(path.join(home, ".local/share/jupyter/labextensions"))).toBe(false);
    const again = await runInstaller({ home, path: PATH, env: env() });
    expect(again.stderr).toMatch(/tswren 0\.2\.0 is already installed/);
  }, 120_000);

  it("a pinned version replaces it, and is then up to date", async () => {
    const pinned = await runInstaller({ home, path: PATH, env: env(), args: ["0.1.9"] });
    expect(pinned.code, pinned.stderr).toBe(0);
    expect(pinned.stdout).toContain("tswren 0.1.9 installed");
    const again = await runInstaller({ home, path: PATH, env: env(), args: ["v0.1.9"] });
    expect(again.stderr).toMatch(/tswren 0\.1\.9 is already installed/);
  }, 120_000);

  it("a version the registry does not have: exit 5, the install in place untouched", async () => {
    const installed = snapshot(home);
    expectFailure(await runInstaller({ home, path: PATH, env: env(), args: ["9.9.9"] }), 5, /npm could not install tswren@9\.9\.9/);
    expect(snapshot(home)).toEqual(installed);
    expect((await runInstaller({ home, path: PATH, env: env(), args: ["0.1.9"] })).stderr).toMatch(/0\.1\.9 is already installed/);
  }, 120_000);

  it("a tarball that does not match the registry's integrity: exit 5, nothing installed", async () => {
    const corrupt = await startStaticRegistry([fakeTslab, fakeTswren("0.2.0")], fresh("registry-corrupt"), ["tswren"]);
    const fresh2 = fresh("registry-case/home-corrupt");
    try {
      const result = await runInstaller({ home: fresh2, path: PATH, args: ["0.2.0"],
        env: { npm_config_registry: corrupt.url, npm_config_cache: fresh("registry-case/cache-corrupt"), npm_config_fetch_retries: "0" } });
      expectFailure(result, 5, /EINTEGRITY|integrity/);
      expect(snapshot(fresh2)).toEqual([]);
    } finally {
      await corrupt.close();
    }
  }, 120_000);

  it("no version when the registry has no tswren: exit 5, saying so", async () => {
    const empty = await startStaticRegistry([fakeTslab], fresh("registry-empty"));
    const fresh3 = fresh("registry-case/home-empty");
    try {
      const result = await runInstaller({ home: fresh3, path: PATH, env: { npm_config_registry: empty.url, npm_config_cache: fresh("registry-case/cache-empty") } });
      expectFailure(result, 5, /has no package tswren@latest/);
    } finally {
      await empty.close();
    }
  }, 120_000);
});
