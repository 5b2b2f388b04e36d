import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { objects } from "../../kernel-lib/src/data/objects.js";
import { partRanges, partition } from "../../kernel-lib/src/data/partitioner.js";
import type { PartSpec } from "../../kernel-lib/src/data/partitioner.js";
import { LOOKAHEAD_BYTES, readLineAligned } from "../../kernel-lib/src/data/line-window.js";
import type { RangeOpener } from "../../kernel-lib/src/data/line-window.js";
import type { StorageBackend } from "../../kernel-lib/src/storage/backend.js";
import { LocalhostStorage } from "../../kernel-lib/src/storage/localhost.js";

/** 1000 lines of 10 bytes: 9 characters and "\n". */
const THOUSAND_LINES = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(9, "0")}\n`).join("");

/** A storage backend that fails the test on any write, and records which methods were called. */
function readOnly(inner: StorageBackend, calls: string[]): StorageBackend {
  const writes = new Set(["put", "delete", "deleteMany", "ensureBucket"]);
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        calls.push(String(prop));
        if (writes.has(String(prop))) throw new Error(`partition wrote to storage: ${String(prop)}`);
        return value.apply(target, args);
      };
    },
  });
}

/** An in-memory object read through a recording ranged opener, delivering `piece`-byte chunks. */
function memoryOpener(content: Buffer, piece: number, ranges: Array<[number, number]>, cap = Number.POSITIVE_INFINITY): RangeOpener {
  return async (start, end) => {
    ranges.push([start, end]);
    const bytes = content.subarray(start, Math.min(end + 1, start + cap));
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += piece) chunks.push(bytes.subarray(i, i + piece));
    return chunks;
  };
}

async function readPart(content: Buffer, start: number, end: number, piece = 1 << 20, ranges: Array<[number, number]> = []): Promise<string> {
  const out: Buffer[] = [];
  for await (const chunk of readLineAligned(memoryOpener(content, piece, ranges), content.length, start, end)) out.push(chunk);
  return Buffer.concat(out).toString("utf8");
}

/** Deterministic pseudo-random text with empty, short, long and "\r\n" lines; maybe no final "\n". */
function randomText(seed: number, lines: number): string {
  let x = seed;
  const next = (n: number): number => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x % n;
  };
  let text = "";
  for (let i = 0; i < lines; i++) {
    const len = next(4) === 0 ? next(60) : next(8);
    text += "abcdefghé".repeat(8).slice(0, len) + (next(5) === 0 ? "\r\n" : "\n");
  }
  return next(2) === 0 ? text : text.slice(0, -1) + "tail";
}

describe("objects()", () => {
  it("parses buckets, prefixes, keys, URLs and local paths into sources", () => {
    const input = objects(["s3://b", "s3://b/p/", "cos://b/k.txt", "https://h.example/x.csv", "/abs/f", "./rel", pathToFileURL("/abs/g").href]);
    expect(input.sources.map((s) => s.kind)).toEqual(["prefix", "prefix", "key", "url", "path", "path", "path"]);
    expect(input.sources[0]).toMatchObject({ bucket: "b", prefix: "" });
    expect(input.sources[1]).toMatchObject({ bucket: "b", prefix: "p/" });
    expect(input.sources[2]).toMatchObject({ bucket: "b", key: "k.txt" });
    expect(input.sources[5]).toMatchObject({ path: path.resolve("rel") });
    expect(input.sources[6]).toMatchObject({ path: "/abs/g" });
  });

  it("rejects an unknown scheme, naming it and the accepted ones", () => {
    expect(() => objects("ftp://host/file")).toThrow(expect.objectContaining({ code: "TSWREN_BAD_INPUT", message: expect.stringMatching(/ftp:\/\/.*s3:\/\/.*https:\/\//) }));
    expect(() => objects(["s3://b/k", "gs://b/k"])).toThrow(/unknown scheme "gs:\/\/"/);
  });

  it("rejects a bucket/prefix without scheme and suggests s3://", () => {
    expect(() => objects("bucket/prefix/")).toThrow(expect.objectContaining({ code: "TSWREN_BAD_INPUT", message: expect.stringContaining('"s3://bucket/prefix/"') }));
  });

  it("rejects an empty bucket name, an empty list and non-string entries", () => {
    expect(() => objects("s3://")).toThrow(expect.objectContaining({ code: "TSWREN_BAD_INPUT", message: expect.stringContaining("names no bucket") }));
    expect(() => objects("s3:///key")).toThrow(/names no bucket/);
    expect(() => objects([])).toThrow(expect.objectContaining({ code: "TSWREN_BAD_INPUT" }));
    expect(() => objects(["s3://b/k", 42 as unknown as string])).toThrow(/source\[1\] is a number/);
  });

  it("keeps query strings of URLs out of its description", () => {
    const input = objects("https://h.example/x.csv?X-Amz-Signature=secret");
    expect(String(input)).not.toContain("secret");
  });
});

describe("part ranges", () => {
  it("gives ceil(size / chunkSize) parts that tile the object, also when size % chunk == 1", () => {
    for (let size = 1; size <= 70; size++) {
      for (let chunk = 1; chunk <= 25; chunk++) {
        const ranges = partRanges(size, { chunkSize: chunk });
        expect(ranges.length).toBe(Math.ceil(size / chunk));
        expect(ranges.flat()).toEqual([0, ...ranges.slice(0, -1).flatMap(([, e]) => [e, e]), size]);
      }
    }
    expect(partRanges(10_001, { chunkSize: 1000 })).toHaveLength(11);
    expect(partRanges(10_001, { chunkSize: 1000 })[10]).toEqual([10_000, 10_001]);
  });

  it("gives exactly chunkNumber near-equal parts, and chunkNumber wins over chunkSize", () => {
    expect(partRanges(9, { chunkNumber: 4 })).toEqual([[0, 2], [2, 4], [4, 6], [6, 9]]);
    expect(partRanges(10_000, { chunkNumber: 3, chunkSize: 10 })).toEqual([[0, 3333], [3333, 6666], [6666, 10_000]]);
    expect(partRanges(2, { chunkNumber: 5 })).toEqual([[0, 1], [1, 2]]);
    expect(partRanges(5e15, { chunkNumber: 7 })[6]?.[1]).toBe(5e15);
  });

  it("gives one whole part without chunk options, for empty objects and without range support", () => {
    expect(partRanges(500, {})).toEqual([[0, 500]]);
    expect(partRanges(0, { chunkSize: 10 })).toEqual([[0, 0]]);
    expect(partRanges(500, { chunkSize: 10 }, false)).toEqual([[0, 500]]);
  });
});

describe("partition() over localhost storage", () => {
  let root: string;
  let storage: LocalhostStorage;
  const env = (): { storage: StorageBackend; localFiles: boolean } => ({ storage, localFiles: true });

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), "tswren-partition-"));
    storage = new LocalhostStorage({ storage_root: path.join(root, "store") });
    await storage.ensureBucket("data");
    await storage.ensureBucket("void");
    await storage.put("data", "lines.txt", THOUSAND_LINES);
    for (const key of ["p/b.txt", "p/a.txt", "p/a/x.txt", "p/a-b.txt", "q/empty.txt"]) await storage.put("data", key, key === "q/empty.txt" ? "" : `${key}\n`);
    for (const key of ["p/foo/baz", "p/foo/bar/baz", "p/foo_bar/baz", "p/foo_baz", "p/bar", "p/bar_baz"]) await storage.put("data", `lithops/${key}`, "x\n");
    await mkdir(path.join(root, "dir", "a"), { recursive: true });
    await mkdir(path.join(root, "emptydir"));
    for (const rel of ["b", "a/x", "a-b"]) await writeFile(path.join(root, "dir", rel), `${rel}\n`);
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("splits 1000 lines of 10 bytes into 10, 10 and 3 parts for chunk 1000, 1005 and chunkNumber 3", async () => {
    const input = objects("s3://data/lines.txt");
    expect(await partition(input, env(), { chunkSize: 1000 })).toHaveLength(10);
    expect(await partition(input, env(), { chunkSize: 1005 })).toHaveLength(10);
    const three = await partition(input, env(), { chunkNumber: 3 });
    expect(three.map((p) => [p.part, p.totalParts, p.start, p.end])).toEqual([[1, 3, 0, 3333], [2, 3, 3333, 6666], [3, 3, 6666, 10_000]]);
    expect(three[0]).toMatchObject({ kind: "storage", bucket: "data", key: "lines.txt", size: 10_000, objectIndex: 0 });
  });

  it("lists a prefix in lexicographic key order and numbers the objects", async () => {
    const specs = await partition(objects("s3://data/p/"), env(), {});
    expect(specs.map((s) => [s.key, s.objectIndex, s.part, s.totalParts])).toEqual([
      ["p/a-b.txt", 0, 1, 1], ["p/a.txt", 1, 1, 1], ["p/a/x.txt", 2, 1, 1], ["p/b.txt", 3, 1, 1],
    ]);
  });

  it("uses plain string-prefix semantics for prefixes", async () => {
    const keys = async (src: string): Promise<Array<string | undefined>> => (await partition(objects(src), env(), {})).map((s) => s.key);
    expect(await keys("s3://data/lithops/p/foo/")).toEqual(["lithops/p/foo/bar/baz", "lithops/p/foo/baz"]);
    expect(await keys("s3://data/lithops/")).toHaveLength(6);
    expect(await keys("s3://data")).toContain("lines.txt");
  });

  it("keeps the order of an explicit list and expands a prefix entry in place", async () => {
    const specs = await partition(objects(["s3://data/p/b.txt", "s3://data/lithops/p/foo/", "s3://data/p/a.txt"]), env(), {});
    expect(specs.map((s) => [s.key, s.objectIndex])).toEqual([
      ["p/b.txt", 0], ["lithops/p/foo/bar/baz", 1], ["lithops/p/foo/baz", 2], ["p/a.txt", 3],
    ]);
  });

  it("numbers parts 1-based per object, parts of each object in order", async () => {
    const specs = await partition(objects(["s3://data/p/a.txt", "s3://data/lines.txt"]), env(), { chunkSize: 4000 });
    expect(specs.map((s) => `${s.objectIndex}:${s.part}/${s.totalParts}`)).toEqual(["0:1/1", "1:1/3", "1:2/3", "1:3/3"]);
  });

  it("makes a zero-byte object one empty part", async () => {
    const specs = await partition(objects("s3://data/q/"), env(), { chunkSize: 10 });
    expect(specs).toEqual([{ kind: "storage", bucket: "data", key: "q/empty.txt", size: 0, start: 0, end: 0, part: 1, totalParts: 1, objectIndex: 0, rangesSupported: true } satisfies PartSpec]);
  });

  it("lists local directories in lexicographic order of their relative paths", async () => {
    const specs = await partition(objects([path.join(root, "dir"), path.join(root, "dir", "b")]), env(), { chunkSize: 2 });
    expect(specs.filter((s) => s.part === 1).map((s) => [path.relative(root, s.path ?? ""), s.objectIndex, s.totalParts])).toEqual([
      ["dir/a-b", 0, 2], ["dir/a/x", 1, 2], ["dir/b", 2, 1], ["dir/b", 3, 1],
    ]);
    expect(specs.every((s) => s.kind === "file")).toBe(true);
  });

  it("only reads from storage while partitioning", async () => {
    const calls: string[] = [];
    await partition(objects(["s3://data/p/", "s3://data/lines.txt"]), { storage: readOnly(storage, calls), localFiles: false }, { chunkSize: 100 });
    expect(new Set(calls)).toEqual(new Set(["bucketExists", "list", "head"]));
  });

  it.each([
    [{ chunkSize: 0 }, /chunkSize must be a whole number >= 1.*got 0/],
    [{ chunkSize: -5 }, /chunkSize.*got -5/],
    [{ chunkSize: 1.5 }, /chunkSize.*got 1.5/],
    [{ chunkSize: Number.NaN }, /chunkSize.*got NaN/],
    [{ chunkSize: Number.POSITIVE_INFINITY }, /chunkSize.*got Infinity/],
    [{ chunkSize: "1000" as unknown as number }, /chunkSize.*got a string/],
    [{ chunkNumber: 0 }, /chunkNumber.*got 0/],
    [{ chunkNumber: 2.5, chunkSize: 10 }, /chunkNumber.*got 2.5/],
  ])("rejects bad chunk options %o before touching storage", async (chunk, message) => {
    const calls: string[] = [];
    await expect(partition(objects("s3://data/lines.txt"), { storage: readOnly(storage, calls), localFiles: true }, chunk)).rejects.toMatchObject({ code: "TSWREN_BAD_OPTION", message: expect.stringMatching(message) });
    expect(calls).toEqual([]);
  });

  it("reports a missing bucket", async () => {
    await expect(partition(objects("s3://nope/p/"), env(), {})).rejects.toMatchObject({ code: "TSWREN_NO_SUCH_BUCKET", message: expect.stringContaining('bucket "nope" does not exist') });
    await expect(partition(objects("s3://nope/key.txt"), env(), {})).rejects.toMatchObject({ code: "TSWREN_NO_SUCH_BUCKET" });
  });

  it("reports a prefix without objects, naming bucket and prefix", async () => {
    await expect(partition(objects("s3://data/none/"), env(), {})).rejects.toMatchObject({ code: "TSWREN_BAD_INPUT", message: expect.stringContaining('no objects under prefix "none/" in bucket "data"') });
    await expect(partition(objects("s3://void"), env(), {})).rejects.toMatchObject({ code: "TSWREN_BAD_INPUT", message: expect.stringContaining('bucket "void" is empty') });
  });

  it("reports a missing explicit key, hinting at prefixes", async () => {
    await expect(partition(objects(["s3://data/p/a.txt", "s3://data/p"]), env(), {})).rejects.toMatchObject({ code: "TSWREN_NO_SUCH_KEY", message: expect.stringMatching(/no object "p" in bucket "data".*end the source with "\/"/) });
  });

  it("reports missing files, empty directories, and local paths off the localhost backend", async () => {
    await expect(partition(objects(path.join(root, "missing.txt")), env(), {})).rejects.toMatchObject({ code: "TSWREN_NO_SUCH_KEY", message: expect.stringContaining("missing.txt") });
    await expect(partition(objects(path.join(root, "emptydir")), env(), {})).rejects.toMatchObject({ code: "TSWREN_BAD_INPUT", message: expect.stringContaining("no files under directory") });
    await expect(partition(objects(path.join(root, "dir", "b")), { storage, localFiles: false }, {})).rejects.toMatchObject({ code: "TSWREN_BAD_INPUT", message: expect.stringContaining("only with the localhost backend") });
  });
});

describe("line-aligned part reading", () => {
  it("reads a middle part with one ranged read from start - 1 through a lookahead past its end", async () => {
    const ranges: Array<[number, number]> = [];
    const big = Buffer.from(THOUSAND_LINES.repeat(5));
    expect(await readPart(big, 1000, 2000, 1 << 20, ranges)).toBe(THOUSAND_LINES.slice(1000, 2000));
    expect(ranges).toEqual([[999, 1999 + LOOKAHEAD_BYTES]]);
  });

  it("continues with further ranged reads only while the last line has not ended", async () => {
    const content = Buffer.from(`x\n${"y".repeat(100_000)}\nz\n`);
    const ranges: Array<[number, number]> = [];
    expect(await readPart(content, 0, 10, 4096, ranges)).toBe(`x\n${"y".repeat(100_000)}\n`);
    expect(ranges.length).toBe(3);
    ranges.slice(1).forEach(([start], i) => expect(start).toBe((ranges[i]?.[1] ?? 0) + 1));
    expect(await readPart(content, 10, 20, 4096)).toBe("");
    expect(await readPart(content, 100_000, content.length)).toBe("z\n");
  });

  it("follows a last line without newline through further reads to the end of the object", async () => {
    const content = Buffer.from(`x\n${"y".repeat(200_001)}`);
    const ranges: Array<[number, number]> = [];
    expect(await readPart(content, 0, 3, 1000, ranges)).toBe(content.toString());
    expect(ranges.at(-1)?.[1]).toBe(content.length - 1);
    expect(await readPart(content, 3, content.length, 1000)).toBe("");
  });

  it("goes on after a read that returned fewer bytes than asked, and stops at a short object's end", async () => {
    const content = Buffer.from(THOUSAND_LINES);
    const ranges: Array<[number, number]> = [];
    const read = async (size: number, start: number, end: number): Promise<string> => {
      const out: Buffer[] = [];
      for await (const chunk of readLineAligned(memoryOpener(content, 64, ranges, 700), size, start, end)) out.push(chunk);
      return Buffer.concat(out).toString();
    };
    expect(await read(content.length, 1000, 3000)).toBe(THOUSAND_LINES.slice(1000, 3000));
    expect(ranges.length).toBeGreaterThan(2);
    expect(await read(content.length + 500, 9000, content.length + 500)).toBe(THOUSAND_LINES.slice(9000));
  });

  it("reads nothing more for a part inside a long line", async () => {
    const content = Buffer.from(`${"x".repeat(20)}\nb\n`);
    const ranges: Array<[number, number]> = [];
    expect(await readPart(content, 4, 8, 1, ranges)).toBe("");
    expect(ranges).toHaveLength(1);
  });

  it("tiles any text exactly for every chunk size and delivery piece size", async () => {
    for (const seed of [1, 2, 3, 4]) {
      const content = Buffer.from(randomText(seed, 40));
      for (let chunk = 1; chunk <= 45; chunk += seed) {
        for (const piece of [1, 3, 1 << 20]) {
          const parts = await Promise.all(partRanges(content.length, { chunkSize: chunk }).map(([s, e]) => readPart(content, s, e, piece)));
          expect(parts.join("")).toBe(content.toString("utf8"));
          parts.forEach((p, i) => expect(i === parts.length - 1 || p === "" || p.endsWith("\n")).toBe(true));
        }
      }
    }
  });
});
