import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { functionExecutor, type CallContext } from "../../kernel-lib/src/index.js";
import { tempDir } from "../helpers/executor.js";

// Keys of the `tswren`, `localhost` and `localhost_storage` sections do what docs/config.md
// says, observed on real local workers and the storage folder (no inert key; see also
// test/unit/config-keys-used.test.ts).

const root = tempDir("config-effects");

function files(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir, { recursive: true, encoding: "utf8" }) : [];
}

describe("config keys have their documented effect", () => {
  it("storage_root, storage_bucket and storage_prefix decide where job data goes", async () => {
    const fx = functionExecutor({ dataCleaner: false, config: { tswren: { storage_bucket: "effects-bucket", storage_prefix: "my/prefix" }, localhost_storage: { storage_root: root } } });
    try {
      await fx.getResult(await fx.map((x: number) => x, [1]));
      const written = files(path.join(root, "effects-bucket", "my", "prefix"));
      expect(written.some((f) => f.startsWith(`${fx.executorId}-M000`))).toBe(true);
    } finally {
      await fx.close();
    }
  });

  it("data_cleaner: true deletes the executor's job data on close; false keeps it", async () => {
    for (const dataCleaner of [true, false]) {
      const fx = functionExecutor({ config: { tswren: { data_cleaner: dataCleaner, storage_bucket: `clean-${String(dataCleaner)}` }, localhost_storage: { storage_root: root } } });
      await fx.getResult(await fx.map((x: number) => x, [1]));
      await fx.close();
      const left = files(path.join(root, `clean-${String(dataCleaner)}`)).filter((f) => f.includes(fx.executorId));
      expect(left.length > 0).toBe(!dataCleaner);
    }
  });

  it("retries re-runs a failed call (ctx.attempt 2); retries: 0 reports the first failure", async () => {
    const flaky = (x: number, ctx: CallContext): number => {
      if (ctx.attempt === 1) throw new Error("first attempt fails");
      return x * ctx.attempt;
    };
    const fx = functionExecutor({ dataCleaner: false, config: { tswren: { retries: 1 }, localhost_storage: { storage_root: root } } });
    const none = functionExecutor({ dataCleaner: false, config: { tswren: { retries: 0 }, localhost_storage: { storage_root: root } } });
    try {
      expect(await fx.getResult(await fx.map(flaky, [5]))).toEqual([10]);
      await expect(none.getResult(await none.map(flaky, [5]))).rejects.toThrow("first attempt fails");
    } finally {
      await Promise.all([fx.close(), none.close()]);
    }
  });

  it("localhost.worker_processes: 1 runs every call in one worker process", async () => {
    const fx = functionExecutor({ dataCleaner: false, config: { localhost: { worker_processes: 1 }, localhost_storage: { storage_root: root } } });
    try {
      const pids = await fx.getResult(await fx.map(() => process.pid, [1, 2, 3, 4]));
      expect(new Set(pids).size).toBe(1);
      expect(pids[0]).not.toBe(process.pid);
    } finally {
      await fx.close();
    }
  });
});
