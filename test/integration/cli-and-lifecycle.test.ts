import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../kernel-lib/src/cli.js";
import { LocalhostStorage } from "../../kernel-lib/src/storage/localhost.js";
import { tempDir, testExecutor } from "../helpers/executor.js";

const repo = path.resolve(import.meta.dirname, "../..");
const cli = path.join(repo, "kernel-lib/bin/tswren.js");

function runCli(args: string[], root: string, extraEnv: Record<string, string> = {}): { code: number | null; out: string; err: string } {
  const env = { ...process.env, TSWREN_CONFIG: JSON.stringify({ localhost_storage: { storage_root: root } }), ...extraEnv };
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8", env, timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("the tswren CLI", () => {
  it("`tswren hello` runs a call and a map and prints what they ran on", () => {
    const r = runCli(["hello"], tempDir("cli-hello"));
    expect(r.err).toBe("");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/localhost: \d+ worker processes/);
    expect(r.out).toMatch(/callAsync: Hello World, from process \d+/);
    expect(r.out).toContain("map(x => x + 7, [1, 2, 3, 4]) = [8,9,10,11]");
    expect(r.out).toMatch(/ran on: local-\d+/);
  });

  it("the README's first command (`npm run hello`) runs that same CLI after the build", () => {
    const scripts = (JSON.parse(readFileSync(path.join(repo, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts;
    const steps = (scripts["hello"] ?? "").split("&&").map((s) => s.trim());
    expect(steps[0]).toBe("npm run build");
    const [node, script, ...args] = (steps[1] ?? "").split(/\s+/);
    expect(node).toBe("node");
    expect(path.resolve(repo, script ?? "")).toBe(cli);
    expect(args).toEqual(["hello"]);
  });

  it("`tswren clean` deletes job data under the prefix and nothing else", async () => {
    const root = tempDir("cli-clean");
    const storage = new LocalhostStorage({ storage_root: root });
    await storage.ensureBucket("tswren-data");
    await storage.put("tswren-data", "tswren.jobs/abc-0-M000/00000/status.json", "{}");
    await storage.put("tswren-data", "user/data.csv", "keep me");
    const r = runCli(["clean"], root);
    expect(r.code).toBe(0);
    expect(r.out).toContain("deleted 1 objects");
    expect((await storage.list("tswren-data", "")).map((o) => o.key)).toEqual(["user/data.csv"]);
  });

  it("reports a bad config as a coded error and exit code 1", () => {
    const r = runCli(["clean"], tempDir("cli-bad"), { TSWREN_CONFIG: "tswren: { backnd: localhost }" });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/TSWREN_CONFIG_UNKNOWN_KEY.*did you mean `backend`/);
  });

  it("main() returns a non-zero code for an unknown command", async () => {
    const lines: string[] = [];
    const saved = process.stderr.write.bind(process.stderr);
    process.stderr.write = (() => true);
    try {
      expect(await main(["no-such-command"], (l) => lines.push(l))).not.toBe(0);
    } finally {
      process.stderr.write = saved;
    }
  });

  it("shows a progress bar while waiting when stdout is a terminal, and nothing when it is not", () => {
    const root = tempDir("cli-tty");
    const script = `import { functionExecutor } from "tswren"; const fx = functionExecutor({ dataCleaner: false, config: { localhost_storage: { storage_root: ${JSON.stringify(root)} } } }); await fx.map(async (x) => { await new Promise((r) => setTimeout(r, 300)); return x; }, [1, 2, 3, 4]); console.log("RESULT", JSON.stringify(await fx.getResult())); await fx.close();`;
    const cmd = `${JSON.stringify(process.execPath)} --input-type=module -e ${JSON.stringify(script).replace(/\$/g, "\\$")}`;
    const tty = spawnSync("script", ["-qec", cmd, "/dev/null"], { encoding: "utf8", cwd: repo, timeout: 60_000 });
    expect(tty.stdout).toContain("RESULT [1,2,3,4]");
    expect(tty.stdout).toMatch(/tswren \|.*\| 4\/4 calls ended: 4 done, 0 failed/);
    const plain = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", cwd: repo, timeout: 60_000 });
    expect(plain.stdout).toBe("RESULT [1,2,3,4]\n");
  });
});

describe("executor life cycle", () => {
  it("close() cancels calls that have not run, and `await using` closes", async () => {
    const root = tempDir("close");
    let futures: Awaited<ReturnType<ReturnType<typeof testExecutor>["map"]>> = [];
    {
      await using fx = testExecutor(root, { workers: 1 });
      futures = await fx.map(async (ms: number) => { await new Promise((r) => setTimeout(r, ms)); return ms; }, [300, 300, 300, 300, 300, 300]);
      await fx.wait(futures, { returnWhen: "ANY_COMPLETED" });
    }
    expect(futures[0]?.status).toBe("success");
    expect(futures.filter((f) => f.status === "cancelled").length).toBeGreaterThanOrEqual(3);
    expect(futures.every((f) => f.done)).toBe(true);
  });

  it("the data cleaner deletes only this executor's keys; user objects in the same bucket survive", async () => {
    const root = tempDir("cleaner");
    const storage = new LocalhostStorage({ storage_root: root });
    await storage.ensureBucket("tswren-data");
    await storage.put("tswren-data", "tswren.jobs/other-executor/keep.func", "other");
    await storage.put("tswren-data", "mine.csv", "user data");
    const fx = testExecutor(root, { dataCleaner: true });
    await fx.map((x: number) => new Uint8Array(20_000).fill(x), [1, 2]);
    await fx.getResult();
    const before = (await storage.list("tswren-data", "tswren.jobs/")).map((o) => o.key);
    expect(before.some((k) => k.startsWith(`tswren.jobs/${fx.executorId}`))).toBe(true);
    await fx.close();
    const after = (await storage.list("tswren-data", "")).map((o) => o.key);
    expect(after).toEqual(["mine.csv", "tswren.jobs/other-executor/keep.func"]);
    expect(existsSync(path.join(root, "tswren-data", "mine.csv"))).toBe(true);
  });

  it("a closed executor refuses new work with a clear error", async () => {
    const fx = testExecutor(tempDir("closed"));
    await fx.close();
    await expect(fx.map((x: number) => x, [1])).rejects.toMatchObject({ code: "TSWREN_EXECUTOR_CLOSED" });
  });
});
