/**
 * PyWren's CLI workflow on the built `tswren` command (a real process, no terminal on stdin):
 * `tswren config init` (PyWren's create_config), `tswren test` (test_function), `tswren logs
 * --latest` (print_latest_logs), and `--memory` limits per backend.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { FunctionExecutor } from "../../kernel-lib/src/executor.js";
import { tempDir } from "../helpers/executor.js";

const repo = path.resolve(import.meta.dirname, "../..");
const cli = path.join(repo, "kernel-lib/bin/tswren.js");

function runCli(args: string[], env: Record<string, string>): { code: number | null; out: string; err: string } {
  const base = { ...process.env };
  delete base["TSWREN_CONFIG"];
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", env: { ...base, ...env }, timeout: 120_000, input: "" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("tswren config init", () => {
  it("writes PyWren's create_config for aws_lambda from flags: backend, S3 storage, bucket, region", () => {
    const file = path.join(tempDir("cfg-init"), "sub", "config");
    const r = runCli(["config", "init", "--backend", "aws_lambda", "--bucket", "my-data-bucket", "--region", "eu-west-1", "--set", "aws_lambda.runtime_memory=1024"], { TSWREN_CONFIG_FILE: file });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain(`wrote ${file}: backend aws_lambda, storage s3, bucket my-data-bucket`);
    expect(r.out).toContain("tswren runtime deploy --backend aws_lambda --create-role");
    expect(parse(readFileSync(file, "utf8"))).toEqual({
      tswren: { backend: "aws_lambda", storage: "s3", storage_bucket: "my-data-bucket" },
      aws_lambda: { region: "eu-west-1", runtime_memory: 1024 },
      s3: { region: "eu-west-1" },
    });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it("refuses to overwrite a config without --force, and overwrites with it", () => {
    const file = path.join(tempDir("cfg-force"), "config");
    expect(runCli(["config", "init", "--file", file], {}).code).toBe(0);
    const before = readFileSync(file, "utf8");
    const again = runCli(["config", "init", "--file", file, "--backend", "docker"], {});
    expect(again.code).toBe(1);
    expect(again.err).toContain("TSWREN_BAD_OPTION");
    expect(again.err).toContain("pass --force");
    expect(readFileSync(file, "utf8")).toBe(before);
    expect(runCli(["config", "init", "--file", file, "--backend", "docker", "--force"], {}).code).toBe(0);
    expect(readFileSync(file, "utf8")).toContain("backend: docker");
  });

  it("writes nothing for an incomplete or wrong config, naming what to add", () => {
    const dir = tempDir("cfg-bad");
    const incomplete = runCli(["config", "init", "--file", path.join(dir, "a"), "--backend", "openwhisk"], {});
    expect(incomplete.code).toBe(1);
    expect(incomplete.err).toMatch(/TSWREN_CONFIG_\w+: .*openwhisk\.endpoint/);
    expect(existsSync(path.join(dir, "a"))).toBe(false);
    const unknown = runCli(["config", "init", "--file", path.join(dir, "b"), "--set", "aws_lambda.runtime_memroy=512"], {});
    expect(unknown.err).toMatch(/TSWREN_CONFIG_UNKNOWN_KEY.*runtime_memory/);
    expect(existsSync(path.join(dir, "b"))).toBe(false);
    const malformed = runCli(["config", "init", "--file", path.join(dir, "c"), "--set", "nodot"], {});
    expect(malformed.err).toContain("TSWREN_BAD_OPTION: tswren config init: --set \"nodot\" is not section.key=value");
    expect(existsSync(path.join(dir, "c"))).toBe(false);
  });
});

describe("tswren test and tswren logs --latest", () => {
  it("`tswren test` runs a call and a map on the configured backend and checks them", () => {
    const dir = tempDir("cfg-test");
    const file = path.join(dir, "config");
    expect(runCli(["config", "init", "--file", file, "--set", `localhost_storage.storage_root=${path.join(dir, "storage")}`], {}).code).toBe(0);
    const r = runCli(["test"], { TSWREN_CONFIG_FILE: file });
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toContain("call: 41 + 1 = 42; map x*x over 0..9 = [0,1,4,9,16,25,36,49,64,81]");
    expect(r.out).toMatch(/tswren test: ok \(11 calls on \d+ worker\(s\), \d+ ms\)/);
  });

  it("`tswren logs --latest` prints the logs of the job that ended last", async () => {
    const dir = tempDir("cfg-logs");
    const file = path.join(dir, "config");
    expect(runCli(["config", "init", "--file", file, "--set", `localhost_storage.storage_root=${path.join(dir, "storage")}`, "--set", "tswren.data_cleaner=false"], {}).code).toBe(0);
    const none = runCli(["logs", "--latest"], { TSWREN_CONFIG_FILE: file });
    expect(none.err).toContain("TSWREN_NO_SUCH_KEY: tswren logs --latest: no call statuses");
    const fx = new FunctionExecutor({ config: { localhost_storage: { storage_root: path.join(dir, "storage") } }, dataCleaner: false });
    let second: Awaited<ReturnType<typeof fx.map>> = [];
    try {
      await fx.getResult(await fx.map((x: number) => console.log(`first job ${x}`), [1]));
      second = await fx.map((x: number) => console.log(`second job ${x}`), [7, 8]);
      await fx.getResult(second);
    } finally {
      await fx.close(); // localhost stores statuses in batches within 100 ms; close() stores the rest
    }
    const r = runCli(["logs", "--latest"], { TSWREN_CONFIG_FILE: file });
    expect(r.err).toBe("");
    expect(r.out).toContain(`latest job: ${fx.executorId}-${second[0]?.jobId ?? "?"}`);
    expect(r.out).toContain("second job 7");
    expect(r.out).toContain("second job 8");
    expect(r.out).not.toContain("first job");
    expect(runCli(["logs"], { TSWREN_CONFIG_FILE: file }).err).toContain("pass a job reference (<executorId>-<jobId>) or --latest");
  });

  it("`runtime deploy --memory` takes Lambda's range (to 10,240 MB) on aws_lambda, 2048 elsewhere", () => {
    const lambda = runCli(["runtime", "deploy", "--backend", "aws_lambda", "--memory", "10241"], {});
    expect(lambda.err).toContain("--memory must be an integer number of MB from 128 to 10240; got \"10241\" (the limit of aws_lambda)");
    const whisk = runCli(["runtime", "deploy", "--backend", "openwhisk", "--memory", "4096"], { TSWREN_CONFIG: JSON.stringify({ openwhisk: { endpoint: "http://127.0.0.1:9", namespace: "guest", api_key: "a:b" } }) });
    expect(whisk.err).toContain("from 128 to 2048; got \"4096\"");
  });
});
