import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineOf } from "../../kernel-lib/src/internal.js";
import { objects, type CloudObject, type FunctionExecutor } from "../../kernel-lib/src/index.js";
import { tempDir, testExecutor } from "../helpers/executor.js";

// Data jobs end to end on the localhost backend: objects(...) over a bucket prefix of localhost
// storage and over local files, through real worker processes.

const root = tempDir("data-jobs");
const files = tempDir("data-files");
let fx: FunctionExecutor;
const lines = Array.from({ length: 1000 }, (_, i) => `line ${String(i).padStart(4, "0")}`); // 9 chars + "\n"

beforeAll(async () => {
  fx = testExecutor(root);
  const storage = await fx.storage();
  await storage.put("texts/a.txt", `${lines.join("\n")}\n`);
  await storage.put("texts/b.txt", "alpha beta\ngamma\nbeta beta"); // no final newline
  await storage.put("texts/c.txt", `${"x".repeat(20)}\nb\n`);
  await storage.put("other/skip.txt", "not under the prefix");
  mkdirSync(path.join(files, "dir"));
  writeFileSync(path.join(files, "dir/one.txt"), "one two\nthree\n");
});
afterAll(() => fx.close());

describe("map over objects(...)", () => {
  it("sees every line of every object exactly once, in order, with chunkSize", async () => {
    const futures = await fx.map(async (obj: CloudObject) => {
      const seen: string[] = [];
      for await (const line of obj.lines()) seen.push(line);
      return { key: obj.key, part: obj.part, totalParts: obj.totalParts, seen };
    }, objects(`s3://${fx.config.tswren.storage_bucket}/texts/`), { chunkSize: 1005 });
    const parts = (await fx.getResult(futures)) as Array<{ key: string; part: number; totalParts: number; seen: string[] }>;
    const byKey = (key: string): string[] => parts.filter((p) => p.key === key).sort((x, y) => x.part - y.part).flatMap((p) => p.seen);
    expect(parts.filter((p) => p.key === "texts/a.txt")[0]?.totalParts).toBe(Math.ceil(10_000 / 1005));
    expect(byKey("texts/a.txt")).toEqual(lines);
    expect(byKey("texts/b.txt")).toEqual(["alpha beta", "gamma", "beta beta"]);
    expect(byKey("texts/c.txt")).toEqual(["x".repeat(20), "b"]);
    expect([...new Set(parts.map((p) => p.key))]).toEqual(["texts/a.txt", "texts/b.txt", "texts/c.txt"]);
  });

  it("concatenating text() of all parts gives each object exactly, with chunkNumber", async () => {
    const futures = await fx.map(async (obj: CloudObject) => ({ key: obj.key, part: obj.part, text: await obj.text() }), objects(`s3://${fx.config.tswren.storage_bucket}/texts/c.txt`), { chunkNumber: 6 });
    const parts = (await fx.getResult(futures)) as Array<{ part: number; text: string }>;
    expect(parts).toHaveLength(6);
    expect(parts.map((p) => p.text).join("")).toBe(`${"x".repeat(20)}\nb\n`);
    expect(parts[0]?.text).toBe(`${"x".repeat(20)}\n`);
  });

  it("word count with one reducer over everything", async () => {
    await fx.mapReduce(
      async (obj: CloudObject) => {
        const counts: Record<string, number> = {};
        for await (const line of obj.lines()) for (const w of line.split(/\s+/).filter(Boolean)) counts[w] = (counts[w] ?? 0) + 1;
        return counts;
      },
      objects(`s3://${fx.config.tswren.storage_bucket}/texts/b.txt`),
      (results: Array<Record<string, number>>) => {
        const total: Record<string, number> = {};
        for (const r of results) for (const [w, n] of Object.entries(r)) total[w] = (total[w] ?? 0) + n;
        return total;
      },
      { chunkSize: 4 },
    );
    expect(await fx.getResult()).toEqual({ alpha: 1, beta: 3, gamma: 1 });
  });

  it("reducerOnePerObject gives one reducer per object with its parts' results in part order", async () => {
    const futures = await fx.mapReduce(
      (obj: CloudObject) => `${obj.key}#${obj.part}`,
      objects(`s3://${fx.config.tswren.storage_bucket}/texts/`),
      (results: string[]) => results,
      { chunkSize: 4000, reducerOnePerObject: true },
    );
    expect(await fx.getResult(futures)).toEqual([["texts/a.txt#1", "texts/a.txt#2", "texts/a.txt#3"], ["texts/b.txt#1"], ["texts/c.txt#1"]]);
  });

  it("reads local files on the localhost backend", async () => {
    const futures = await fx.map(async (obj: CloudObject) => ({ path: obj.path, text: await obj.text() }), objects(path.join(files, "dir")));
    expect(await fx.getResult(futures)).toEqual([{ path: path.join(files, "dir/one.txt"), text: "one two\nthree\n" }]);
  });
});

describe("bad data input fails before anything is invoked", () => {
  it("rejects an unknown scheme, a missing bucket, an empty prefix and a bad chunk size", async () => {
    const registered = engineOf(fx).registeredFutures().length;
    expect(() => objects("ftp://host/file")).toThrow(/ftp/);
    await expect(fx.map((o: CloudObject) => o.part, objects("s3://no-such-bucket/x/"))).rejects.toMatchObject({ code: "TSWREN_NO_SUCH_BUCKET" });
    await expect(fx.map((o: CloudObject) => o.part, objects(`s3://${fx.config.tswren.storage_bucket}/none/`))).rejects.toThrow(/no objects/);
    await expect(fx.map((o: CloudObject) => o.part, objects(`s3://${fx.config.tswren.storage_bucket}/texts/`), { chunkSize: 0 })).rejects.toMatchObject({ code: "TSWREN_BAD_OPTION" });
    await expect(fx.map((x: number) => x, [1, 2], { chunkSize: 10 })).rejects.toThrow(/only to objects/);
    expect(engineOf(fx).registeredFutures()).toHaveLength(registered);
  });
});
