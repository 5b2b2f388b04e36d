import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/executor.js";

// `log_level` / `TSWREN_LOGLEVEL`: a real script (the built `tswren` package, real local worker
// processes) prints its debug lines of submit, invoke and monitor on stderr, and never a secret
// of its configuration.

const root = tempDir("log-level");
const SECRETS = ["fake-ow-secret-91c2", "fake-s3-secret-5d7e", "fake-amqp-password-3b8a"];

/** A config with secrets in sections the run does not select (they are loaded all the same). */
function config(logLevel?: string): Record<string, unknown> {
  return {
    tswren: { backend: "localhost", storage: "localhost", data_cleaner: false, ...(logLevel ? { log_level: logLevel } : {}) },
    localhost_storage: { storage_root: root },
    openwhisk: { endpoint: "http://127.0.0.1:9", namespace: "_", api_key: `user:${SECRETS[0]}` },
    minio: { endpoint: "http://127.0.0.1:9", access_key_id: "someone", secret_access_key: SECRETS[1] },
    rabbitmq: { amqp_url: `amqp://someone:${SECRETS[2]}@127.0.0.1:9/` },
  };
}

const SCRIPT = `
import { functionExecutor } from "tswren";
let fx;
try {
  fx = functionExecutor({ config: JSON.parse(process.env.CFG) });
  await fx.map((x) => x + 1, [1, 2, 3]);
  console.log(JSON.stringify(await fx.getResult()));
} catch (e) {
  console.log(e.code, e.message);
} finally {
  await fx?.close();
}
`;

/** Run the script in a new node process from the repo root; resolves with its output. */
function runScript(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", SCRIPT], { cwd: process.cwd(), env: { ...process.env, TSWREN_LOGLEVEL: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on("data", (d: Buffer) => { stderr += d.toString(); });
    child.on("error", reject);
    child.on("close", (code) => { resolve({ code, stdout, stderr }); });
  });
}

const LINE = /^tswren DEBUG \d{4}-\d\d-\d\dT[\d:.]+Z [0-9a-f]{16}-\d+ (\w+)/;

describe("log_level and TSWREN_LOGLEVEL", () => {
  it("TSWREN_LOGLEVEL=debug prints submit, invoke and monitor lines on stderr, without any secret", async () => {
    const run = await runScript({ CFG: JSON.stringify(config()), TSWREN_LOGLEVEL: "debug" });
    expect(run.stdout, run.stderr).toBe("[2,3,4]\n");
    const kinds = new Set(run.stderr.split("\n").flatMap((l) => LINE.exec(l)?.[1] ?? []));
    expect([...kinds]).toEqual(expect.arrayContaining(["submit", "invoke", "monitor"]));
    expect(run.stderr).toMatch(/submit M000: 3 calls/);
    expect(run.stderr).toMatch(/monitor M000\/00002 attempt 1: success/);
    for (const secret of SECRETS) expect(run.stdout + run.stderr).not.toContain(secret);
  });

  it("log_level: debug in the config does the same; TSWREN_LOGLEVEL=info wins over it and prints none", async () => {
    const byConfig = await runScript({ CFG: JSON.stringify(config("debug")) });
    expect(byConfig.stdout).toBe("[2,3,4]\n");
    expect(byConfig.stderr).toMatch(/tswren DEBUG .* submit M000/);
    for (const secret of SECRETS) expect(byConfig.stderr).not.toContain(secret);
    const quiet = await runScript({ CFG: JSON.stringify(config("debug")), TSWREN_LOGLEVEL: "info" });
    expect(quiet.stdout).toBe("[2,3,4]\n");
    expect(quiet.stderr).not.toContain("tswren DEBUG");
  });

  it("the default level prints no debug line; a TSWREN_LOGLEVEL that is no level is a coded config error", async () => {
    const plain = await runScript({ CFG: JSON.stringify(config()) });
    expect(plain.stdout).toBe("[2,3,4]\n");
    expect(plain.stderr).not.toContain("tswren DEBUG");
    const bad = await runScript({ CFG: JSON.stringify(config()), TSWREN_LOGLEVEL: "chatty" });
    expect(bad.stdout).toContain("TSWREN_CONFIG_BAD_VALUE TSWREN_LOGLEVEL must be one of debug, info, warn, error");
  });
});
