import { readdirSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { RemoteFunctionError, type FunctionExecutor } from "../../kernel-lib/src/index.js";
import { tempDir, testExecutor } from "../helpers/executor.js";

const root = tempDir("failures");
const fx: FunctionExecutor = testExecutor(root, { runtimeMemory: 256 });
afterAll(() => fx.close());

describe("remote errors", () => {
  it("re-raises a remote error with its message and remote stack", async () => {
    const futures = await fx.map((x: number) => {
      if (x === 2) throw new RangeError(`bad item ${x}`);
      return x;
    }, [1, 2, 3]);
    const err = await fx.getResult(futures).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteFunctionError);
    const remote = err as RemoteFunctionError;
    expect(remote.remoteName).toBe("RangeError");
    expect(remote.message).toContain("bad item 2");
    expect(remote.call.callId).toBe("00001");
    expect(remote.remoteStack).toMatch(/RangeError: bad item 2\n\s+at /);
  });

  it("throwExcept: false gives [1, null, 3] and keeps the error on the future", async () => {
    const futures = await fx.map((x: number) => {
      if (x === 2) throw new Error("two");
      return x;
    }, [1, 2, 3]);
    expect(await fx.getResult(futures, { throwExcept: false })).toEqual([1, null, 3]);
    expect(futures[1]?.status).toBe("error");
    expect(futures[1]?.error?.message).toContain("two");
  });
});

describe("never hang", () => {
  it("a call looping past its timeout ends as a timeout error within timeout + 5 s, and the others finish", async () => {
    const started = Date.now();
    const futures = await fx.map((x: number) => {
      if (x === 1) for (;;) { /* busy loop */ }
      return x;
    }, [0, 1, 2, 3], { timeout: 1 });
    const results = await fx.getResult(futures, { throwExcept: false });
    expect(results).toEqual([0, null, 2, 3]);
    expect(futures[1]?.error).toMatchObject({ code: "TSWREN_TIMEOUT" });
    expect(Date.now() - started).toBeLessThan(6000);
  });

  it("a function calling process.exit ends as an error naming process.exit", async () => {
    const futures = await fx.map((x: number) => {
      if (x === 1) process.exit(3);
      return x;
    }, [0, 1, 2]);
    expect(await fx.getResult(futures, { throwExcept: false })).toEqual([0, null, 2]);
    expect(futures[1]?.error?.message).toMatch(/process\.exit\(3\)/);
  });

  it("a function that runs out of memory ends as an OOM error, and the pool goes on", async () => {
    const started = Date.now();
    const futures = await fx.map((x: number) => {
      if (x !== 1) return x;
      const hog: number[][] = [];
      for (;;) hog.push(new Array<number>(1e6).fill(x));
    }, [0, 1, 2], { timeout: 60 });
    expect(await fx.getResult(futures, { throwExcept: false })).toEqual([0, null, 2]);
    expect(futures[1]?.error).toMatchObject({ code: "TSWREN_OUT_OF_MEMORY" });
    expect(futures[1]?.error?.message).toMatch(/runtimeMemory 256 MB/);
    expect(Date.now() - started).toBeLessThan(65_000);
    const after = await fx.map((x: number) => x * 2, [5, 6]);
    expect(await fx.getResult(after)).toEqual([10, 12]);
  });

  it("a call whose worker is killed ends as an error, and dead workers are replaced", async () => {
    const futures = await fx.map((x: number) => {
      if (x === 1) process.kill(process.pid, "SIGKILL");
      return process.pid;
    }, [0, 1, 2, 3]);
    const results = await fx.getResult(futures, { throwExcept: false });
    expect(results[1]).toBeNull();
    expect(futures[1]?.error).toMatchObject({ code: "TSWREN_WORKER_CRASHED" });
    expect(futures[1]?.error?.message).toMatch(/SIGKILL/);
    const killedPid = Number(futures[1]?.workerId?.replace("local-", ""));
    const after = await fx.map(() => process.pid, [1, 2, 3, 4]);
    const pids = await fx.getResult(after);
    expect(pids).not.toContain(killedPid);
  });
});

describe("retries", () => {
  // Declared fault table: item -> attempts that fail before one succeeds.
  const table = [
    { id: "a", failures: 0 },
    { id: "b", failures: 1 },
    { id: "c", failures: 2 },
    { id: "d", failures: 5 },
  ];

  it("re-runs failed calls up to `retries` times; only the last attempt counts", async () => {
    const dir = tempDir("attempts");
    const futures = await fx.map((row: { id: string; failures: number; dir: string }, ctx) => {
      const fs = require("node:fs") as typeof import("node:fs");
      fs.writeFileSync(`${row.dir}/${row.id}-${ctx.attempt}`, "");
      if (ctx.attempt <= row.failures) throw new Error(`${row.id} fails attempt ${ctx.attempt}`);
      return `${row.id}@${ctx.attempt}`;
    }, table, { retries: 2, extraArgs: { dir } });
    const results = await fx.getResult(futures, { throwExcept: false });
    expect(results).toEqual(["a@1", "b@2", "c@3", null]);
    expect(futures[3]?.error?.message).toContain("d fails attempt 3");
    const attempts = (id: string): number => readdirSync(dir).filter((f) => f.startsWith(`${id}-`)).length;
    expect(table.map((r) => attempts(r.id))).toEqual([1, 2, 3, 3]);
    expect(futures.map((f) => f.attempt)).toEqual([1, 2, 3, 3]);
    expect(path.isAbsolute(dir)).toBe(true);
  });
});
