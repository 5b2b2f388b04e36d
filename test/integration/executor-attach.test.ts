import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { attach, listJobs, loadConfig, type TswrenConfig } from "../../kernel-lib/src/index.js";
import { main } from "../../kernel-lib/src/cli.js";
import { tempDir, testExecutor } from "../helpers/executor.js";
import { minioSection, suiteMinio } from "../helpers/minio.js";
import { serverlessFixture } from "../helpers/serverless.js";
import { TEST_SIGNING_KEY } from "../helpers/signing.js";

// Re-attach: a job submitted by another process (a child script here, like a notebook kernel
// that later restarts) is found by its record in storage and watched from this process.

const lib = pathToFileURL(path.resolve("kernel-lib/dist/index.js")).href;
const dir = tempDir("attach");
const children: ChildProcess[] = [];
afterAll(() => { for (const c of children) c.kill("SIGKILL"); });

/**
 * The owner script: maps `waitGate` (each call waits for the gate file, then returns x * 10) over
 * [1, 2, 3] with the config in TSWREN_CONFIG; prints `JOB <ref>`, then either waits for the results
 * (printing them) or exits at once.
 */
const OWNER = [
  `import { functionExecutor } from ${JSON.stringify(lib)};`,
  "const [gate, mode] = process.argv.slice(2);",
  "const fx = functionExecutor({ dataCleaner: false });",
  "const futures = await fx.map(async function waitGate(x) {",
  "  const fs = process.getBuiltinModule('node:fs');",
  "  while (!fs.existsSync(gate)) await new Promise((r) => setTimeout(r, 20));",
  "  return x * 10;",
  "}, [1, 2, 3]);",
  "console.log(`JOB ${futures[0].executorId}-${futures[0].jobId}`);",
  "if (mode === 'exit') process.exit(0);",
  "console.log(`RESULT ${JSON.stringify(await fx.getResult(futures))}`);",
  "await fx.close();",
].join("\n");
const ownerScript = path.join(dir, "owner.mjs");
writeFileSync(ownerScript, OWNER);

/** Start the owner; resolves with its job reference once it printed it. */
function startOwner(config: object, gate: string, mode: "wait" | "exit"): Promise<{ ref: string; child: ChildProcess; exited: Promise<string> }> {
  const env: NodeJS.ProcessEnv = { ...process.env, TSWREN_CONFIG: JSON.stringify(config), HOME: dir };
  delete env["TSWREN_CONFIG_FILE"];
  const child = spawn(process.execPath, [ownerScript, gate, mode], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
  children.push(child);
  let out = "";
  let err = "";
  child.stderr?.on("data", (d: Buffer) => { err += d.toString(); });
  const exited = new Promise<string>((resolve) => { child.on("exit", () => { resolve(out); }); });
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /^JOB (\S+)$/m.exec(out);
      if (m?.[1] !== undefined) resolve({ ref: m[1], child, exited });
    });
    child.on("exit", (code) => { if (!/^JOB /m.test(out)) reject(new Error(`owner exited ${code} before submitting: ${err}`)); });
  });
}

async function rejection(p: Promise<unknown>): Promise<Error & { code?: string }> {
  const e: unknown = await p.then(() => null, (x: unknown) => x);
  if (!(e instanceof Error)) throw new Error(`expected a rejection, got ${String(e)}`);
  return e;
}

describe("attach on localhost: jobs die with their client", () => {
  const store = path.join(dir, "store");
  const config = { localhost_storage: { storage_root: store } };
  const opts = { config };

  it("attaches from a second process while the job runs, then after it ended", async () => {
    const gate = path.join(dir, "gate-1");
    const owner = await startOwner(config, gate, "wait");
    const futures = await attach<number>(owner.ref, opts);
    expect(futures).toHaveLength(3);
    expect(futures.every((f) => !f.done)).toBe(true);
    writeFileSync(gate, "");
    expect(await Promise.all(futures.map((f) => f.result()))).toEqual([10, 20, 30]);
    expect(await owner.exited).toContain("RESULT [10,20,30]");
    const fx = testExecutor(store);
    const again = await fx.attach<number>(owner.ref);
    expect(await fx.getResult(again)).toEqual([10, 20, 30]);
    await fx.close();
    const listed = (await listJobs(loadConfig(opts))).find((j) => j.ref === owner.ref);
    expect(listed).toMatchObject({ functionName: "waitGate", calls: 3, ended: 3, backend: "localhost", state: "done" });
    expect(listed?.cost?.gbSeconds).toBeGreaterThan(0);
  });

  it("a job whose client was killed: its calls fail with TSWREN_JOB_DIED_WITH_CLIENT, and tswren jobs says so", async () => {
    const owner = await startOwner(config, path.join(dir, "gate-never"), "wait");
    owner.child.kill("SIGKILL");
    await owner.exited;
    const futures = await attach(owner.ref, opts);
    const err = await rejection(futures[0]?.result() ?? Promise.resolve());
    expect(err.code).toBe("TSWREN_JOB_DIED_WITH_CLIENT");
    expect(err.message).toMatch(/ran on localhost, whose calls run in the process that submitted it \(pid \d+/);
    expect(futures.every((f) => f.status === "error")).toBe(true);
    const lines: string[] = [];
    process.env["TSWREN_CONFIG"] = JSON.stringify(config);
    try {
      expect(await main(["jobs"], (l) => lines.push(l))).toBe(0);
    } finally {
      delete process.env["TSWREN_CONFIG"];
    }
    expect(lines[0]).toMatch(/^JOB\s+FUNCTION\s+SUBMITTED \(UTC\)\s+CALLS\s+BACKEND\s+STATE\s+COST$/);
    expect(lines.find((l) => l.startsWith(owner.ref))).toMatch(/waitGate .* 0\/3 +localhost +died with client +-$/);
  });

  it("names the problem for a job that is not there or a reference that is not one", async () => {
    expect((await rejection(attach("0123456789abcdef-0-M042", opts))).code).toBe("TSWREN_NO_SUCH_JOB");
    expect((await rejection(attach("not-a-job", opts))).code).toBe("TSWREN_BAD_INPUT");
  });
});

describe("attach on the OpenWhisk emulator with MinIO: jobs outlive their client", () => {
  const platform = serverlessFixture();

  it("attaches after the submitting process exited, while the calls run and after they ended", async () => {
    const fx = platform.executor("openwhisk");
    const config: TswrenConfig = fx.config;
    const gate = path.join(dir, "gate-ow");
    const ow = platform.ow;
    const ownerConfig = {
      tswren: { backend: "openwhisk", storage: "minio", storage_bucket: config.tswren.storage_bucket },
      minio: minioSection(await suiteMinio()),
      openwhisk: { endpoint: ow.apihost, namespace: ow.namespace, api_key: ow.apiKey, runtime_memory: 256, signing_key: TEST_SIGNING_KEY },
    };
    const owner = await startOwner(ownerConfig, gate, "exit");
    await owner.exited;
    const futures = await fx.attach<number>(owner.ref);
    expect(futures.some((f) => !f.done)).toBe(true);
    expect(existsSync(gate)).toBe(false);
    writeFileSync(gate, "");
    expect(await fx.getResult(futures)).toEqual([10, 20, 30]);
    expect(futures.every((f) => f.stats.workerExecMs !== undefined)).toBe(true);
    const again = await attach<number>(owner.ref, { config: ownerConfig });
    expect(await Promise.all(again.map((f) => f.result()))).toEqual([10, 20, 30]);
    const listed = (await listJobs(config)).find((j) => j.ref === owner.ref);
    expect(listed).toMatchObject({ backend: "openwhisk", calls: 3, ended: 3, state: "ended" });
  });
});
