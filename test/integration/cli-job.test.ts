import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/executor.js";

const repo = path.resolve(import.meta.dirname, "../..");
const cli = path.join(repo, "kernel-lib/bin/tswren.js");
const fixtures = path.join(repo, "test/fixtures/cli-job");

interface Run { code: number | null; out: string; err: string; last: unknown }

function env(root: string): NodeJS.ProcessEnv {
  return { ...process.env, TSWREN_CONFIG: JSON.stringify({ localhost_storage: { storage_root: root } }) };
}

function lastLine(out: string): unknown {
  const line = out.trimEnd().split("\n").at(-1) ?? "";
  return line === "" ? undefined : JSON.parse(line) as unknown;
}

function tswren(args: string[], root: string): Run {
  const r = spawnSync(process.execPath, [cli, ...args, "--root", fixtures], { encoding: "utf8", env: env(root), timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr, last: r.status === 0 ? lastLine(r.stdout) : undefined };
}

function storedKeys(root: string): string[] {
  const bucket = path.join(root, "tswren-data");
  if (!existsSync(bucket)) return [];
  return (readdirSync(bucket, { recursive: true }) as string[]).filter((f) => !f.endsWith("/"));
}

describe("tswren map | call-async | map-reduce", () => {
  it("map runs a module's export with its local imports, npm packages and module-level helpers, result on the last stdout line", () => {
    const r = tswren(["map", "--module", "wordstats.ts", "--export", "countWords", "--iterdata", JSON.stringify(["the cat sat", "a dog of mine ran far"])], tempDir("cli-job-map"));
    expect(r.err).toContain("2 calls submitted");
    expect(r.err).toMatch(/2\/2 calls ended \(2 ok, 0 failed/);
    expect(r.code).toBe(0);
    expect(r.last).toEqual([6, 12]);
  });

  it("call-async takes M#E syntax and --data, and bundles an npm package (yaml) with the function", () => {
    const r = tswren(["call-async", "--module", "wordstats.ts#yamlDigest", "--data", JSON.stringify("name: tswren\n")], tempDir("cli-job-call"));
    expect(r.code).toBe(0);
    expect(r.last).toEqual({ name: "tswren", sha1: createHash("sha1").update("tswren").digest("hex").slice(0, 8) });
  });

  it("map-reduce runs the reducer export over the map results; --extra-args merges into each input", () => {
    const root = tempDir("cli-job-mr");
    const mr = tswren(["map-reduce", "-m", "wordstats.ts#countWords", "--reduce-export", "total", "-i", JSON.stringify(["one two", "three four five"])], root);
    expect(mr.code).toBe(0);
    expect(mr.last).toBe(15);
    const extra = tswren(["map", "-m", "wordstats.ts#add", "-i", JSON.stringify([{ x: 1 }, { x: 2 }]), "--extra-args", JSON.stringify({ y: 40 })], root);
    expect(extra.last).toEqual([41, 42]);
  });

  it("reads --iterdata from @file and runs a data job over a local folder", () => {
    const root = tempDir("cli-job-data");
    const dir = path.join(root, "input");
    mkdirSync(dir);
    writeFileSync(path.join(dir, "a.txt"), "1\n2\n3\n");
    writeFileSync(path.join(dir, "b.txt"), "4\n5\n");
    writeFileSync(path.join(root, "iterdata.json"), JSON.stringify(`${dir}/`));
    const r = tswren(["map-reduce", "-m", "wordstats.ts#lineCount", "--reduce-export", "total", "-i", `@${path.join(root, "iterdata.json")}`, "--chunk-n", "2"], root);
    expect(r.err).toContain("5 calls submitted"); // 2 parts of each of 2 files, and the reducer
    expect(r.code).toBe(0);
    expect(r.last).toBe(5);
  });

  it("a failing function exits 1 with the remote error and its stack on stderr", () => {
    const r = tswren(["map", "-m", "wordstats.ts#failOnTwo", "-i", "[1, 2, 3]"], tempDir("cli-job-fail"));
    expect(r.code).toBe(1);
    expect(r.out).toBe("");
    expect(r.err).toMatch(/TSWREN_REMOTE_FUNCTION: call \S+\/M000\/00001 failed: RangeError: cannot take 2/);
    expect(r.err).toMatch(/remote stack of call[\s\S]*at Object\.failOnTwo/);
  });

  it("--no-fetch-result prints a job reference and keeps the job's data; big results are stored and referenced", () => {
    const root = tempDir("cli-job-ref");
    const ref = tswren(["map", "-m", "wordstats.ts#add", "-i", JSON.stringify([{ x: 1, y: 1 }]), "--no-fetch-result"], root);
    expect(ref.code).toBe(0);
    const job = ref.last as { tswren: string; executorId: string; jobKeys: string[]; calls: number; state: string };
    expect(job).toMatchObject({ tswren: "job", calls: 1, state: "done", jobKeys: [`${job.executorId}-M000`] });
    expect(storedKeys(root).some((k) => k.includes(`${job.executorId}-M000/statuses/`))).toBe(true); // localhost: status batches
    const big = tswren(["call-async", "-m", "wordstats.ts#text", "-d", "5000", "--max-result-bytes", "1000"], root);
    const stored = big.last as { tswren: string; bucket: string; key: string; bytes: number };
    expect(stored).toMatchObject({ tswren: "stored-result", bucket: "tswren-data", bytes: 5002 });
    expect(JSON.parse(readFileSync(path.join(root, stored.bucket, stored.key), "utf8"))).toBe("x".repeat(5000));
  });

  it("bad input is a coded error before anything is written", () => {
    const root = tempDir("cli-job-bad");
    const noExport = tswren(["map", "-m", "wordstats.ts#nope", "-i", "[1]"], root);
    expect(noExport.code).toBe(1);
    expect(noExport.err).toMatch(/TSWREN_BAD_INPUT: module wordstats.ts has no exported function "nope"; its exported functions: .*countWords/);
    const badJson = tswren(["map", "-m", "wordstats.ts#add", "-i", "[1,"], root);
    expect(badJson.err).toMatch(/TSWREN_BAD_INPUT: --iterdata is not valid JSON/);
    const noFile = tswren(["map", "-m", "jobs/missing.ts#f", "-i", "[1]"], root);
    expect(noFile.err).toMatch(/TSWREN_BAD_INPUT: module "jobs\/missing.ts" not found/);
    const badChunk = tswren(["map", "-m", "wordstats.ts#add", "-i", "[1]", "--chunk-size", "0"], root);
    expect(badChunk.err).toMatch(/TSWREN_BAD_OPTION: --chunk-size must be an integer >= 1/);
    expect(storedKeys(root)).toEqual([]);
  });

  it("SIGTERM cancels the running job and exits non-zero", async () => {
    const child = spawn(process.execPath, [cli, "map", "-m", "wordstats.ts#hang", "-i", "[1, 2]", "--root", fixtures], { env: env(tempDir("cli-job-term")) });
    let err = "";
    const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
    await new Promise<void>((resolve) => {
      child.stderr.on("data", (chunk: Buffer) => {
        err += chunk.toString();
        if (err.includes("calls submitted")) resolve();
      });
    });
    child.kill("SIGTERM");
    expect(await exited).toBe(1);
    expect(err).toContain("SIGTERM: cancelling the job");
    expect(err).toMatch(/TSWREN_CANCELLED/);
  });
});
