/**
 * Localhost storage stays inside its root (issue 14): list prefixes are checked like keys, from
 * the client and from inside a function; `storage_prefix` values that would leave the bucket are
 * refused when the config is read, naming the option; folders are 0700 and files 0600 whatever
 * the umask. Executor ids carry 64 random bits.
 */
import { statSync, writeFileSync, mkdirSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../kernel-lib/src/config/index.js";
import { ErrorCodes } from "../../kernel-lib/src/errors.js";
import { LocalhostStorage } from "../../kernel-lib/src/storage/localhost.js";
import { caught } from "../helpers/caught.js";
import { tempDir, testExecutor } from "../helpers/executor.js";
import type { FunctionExecutor } from "../../kernel-lib/src/index.js";

const root = tempDir("security-storage");
const made: FunctionExecutor[] = [];
afterAll(async () => { await Promise.all(made.map((fx) => fx.close())); });

describe("localhost storage list prefixes are checked like keys", () => {
  it("refuses prefixes that climb out of the bucket, and lists nothing outside it", async () => {
    const store = new LocalhostStorage({ storage_root: path.join(root, "list") });
    await store.ensureBucket("b");
    await store.put("b", "in/side.txt", "x");
    mkdirSync(path.join(root, "list", "secret-dir"), { recursive: true });
    writeFileSync(path.join(root, "list", "secret-dir", "host"), "outside");
    for (const prefix of ["../secret-dir/h", "../../../etc/host", "/etc/host", "in/../../secret-dir/", "in//side", "./in/"]) {
      const err = await caught(store.list("b", prefix));
      expect({ prefix, code: err.code }).toEqual({ prefix, code: ErrorCodes.BAD_KEY });
      expect(err.message).toContain(JSON.stringify(prefix));
    }
    expect((await store.list("b", "in/")).map((o) => o.key)).toEqual(["in/side.txt"]);
    expect((await store.list("b", "in/..")).map((o) => o.key)).toEqual([]);
  });

  it("a function listing `../../../etc/host` through ctx.storage gets the coded error", async () => {
    const fx = testExecutor(path.join(root, "fn"));
    made.push(fx);
    const listed = await fx.callAsync(async (_x: number, ctx) => {
      try {
        return await ctx.storage.listKeys("../../../etc/host");
      } catch (err) {
        return `${(err as { code?: string }).code ?? "no code"}: ${String(err)}`;
      }
    }, 1);
    expect(await fx.getResult(listed)).toEqual([expect.stringMatching(new RegExp(`^${ErrorCodes.BAD_KEY}: `))]);
  });
});

describe("storage_prefix is checked when the config is read", () => {
  it.each(["..", ".", "a//b", "/jobs", "a/../b", "jobs/./x", "a/.."])("refuses %j, naming tswren.storage_prefix", (prefix) => {
    const err = (() => {
      try {
        loadConfig({ config: { tswren: { storage_prefix: prefix } }, env: {}, cwd: root, home: root });
      } catch (e) {
        return e as { code?: string; message: string };
      }
      throw new Error("expected a refusal");
    })();
    expect(err.code).toBe(ErrorCodes.CONFIG_BAD_VALUE);
    expect(err.message).toContain("storage_prefix");
  });

  it("accepts ordinary prefixes", () => {
    for (const prefix of ["tswren.jobs", "team/a/.hidden", "x..y", ""]) {
      expect(loadConfig({ config: { tswren: { storage_prefix: prefix } }, env: {}, cwd: root, home: root }).tswren.storage_prefix).toBe(prefix);
    }
  });
});

describe("localhost storage folders are 0700 and files 0600 whatever the umask", () => {
  it("with umask 002 a job's bundle, data and statuses are private to their owner", async () => {
    const old = process.umask(0o002);
    try {
      const storageRoot = path.join(root, "modes");
      const fx = testExecutor(storageRoot);
      made.push(fx);
      await fx.map((x: number) => x + 1, [1, 2]);
      expect(await fx.getResult()).toEqual([2, 3]);
      const store = new LocalhostStorage({ storage_root: storageRoot });
      const buckets = ["tswren-data"];
      let files = 0;
      for (const bucket of buckets) {
        if (!(await store.bucketExists(bucket))) continue;
        for (const o of await store.list(bucket, "")) {
          const file = path.join(storageRoot, bucket, ...o.key.split("/"));
          expect({ key: o.key, mode: statSync(file).mode & 0o777 }).toEqual({ key: o.key, mode: 0o600 });
          expect({ dir: path.dirname(o.key), mode: statSync(path.dirname(file)).mode & 0o777 }).toEqual({ dir: path.dirname(o.key), mode: 0o700 });
          files++;
        }
        expect(statSync(path.join(storageRoot, bucket)).mode & 0o777).toBe(0o700);
      }
      expect(files).toBeGreaterThan(0);
    } finally {
      process.umask(old);
    }
  });
});

describe("executor ids", () => {
  it("carry 64 random bits", () => {
    const fx = testExecutor(path.join(root, "ids"));
    made.push(fx);
    expect(fx.executorId).toMatch(/^[0-9a-f]{16}-\d+$/);
  });
});

describe("bad input is bounded", () => {
  it("an endless iterdata generator stops at tswren.max_calls with TSWREN_TOO_MANY_CALLS, and nothing is written", async () => {
    const storageRoot = path.join(root, "endless");
    const fx = testExecutor(storageRoot, { config: { tswren: { max_calls: 50 } } });
    made.push(fx);
    function* endless(): Generator<number> {
      for (let i = 0; ; i++) yield i;
    }
    const err = await caught(fx.map((x: number) => x, endless()));
    expect(err.code).toBe(ErrorCodes.TOO_MANY_CALLS);
    expect(err.message).toContain("tswren.max_calls");
    const store = new LocalhostStorage({ storage_root: storageRoot });
    expect((await store.bucketExists("tswren-data")) ? await store.list("tswren-data", "") : []).toEqual([]);
  });
});
