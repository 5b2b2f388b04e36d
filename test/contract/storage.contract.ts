/**
 * The storage contract: every StorageBackend runs this same suite (localhost storage, MinIO, ...).
 * `skips` maps a test name to the reason it does not apply to a backend.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { text } from "node:stream/consumers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { StorageBackend } from "../../kernel-lib/src/storage/backend.js";
import { Storage } from "../../kernel-lib/src/storage/storage.js";

/** A backend under test and a fresh bucket in it. */
export interface StorageFixture {
  backend: StorageBackend;
  bucket: string;
  /** Called once after the suite. */
  dispose(): Promise<void>;
}

/** `total` bytes of a repeating pattern, in chunks of `chunkBytes` (not aligned to any part size). */
function* patternChunks(total: number, chunkBytes: number): Generator<Buffer> {
  for (let offset = 0; offset < total; offset += chunkBytes) {
    const n = Math.min(chunkBytes, total - offset);
    const chunk = Buffer.alloc(n);
    for (let i = 0; i < n; i++) chunk[i] = (offset + i) % 251;
    yield chunk;
  }
}

const LITHOPS_PREFIX_KEYS = ["p/foo/baz", "p/foo/bar/baz", "p/foo_bar/baz", "p/foo_baz", "p/bar", "p/bar_baz"];

/** The backend and bucket of the suite, set before the first case runs. */
interface Target {
  s: StorageBackend;
  bucket: string;
}

type CaseFn = (title: string, body: () => Promise<void>) => void;

/** Run the storage contract against the backend made by `create`. */
export function storageContract(name: string, create: () => Promise<StorageFixture>, skips: Record<string, string> = {}): void {
  describe(`storage contract: ${name}`, () => {
    let fx: StorageFixture;
    const t = {} as Target;
    const test: CaseFn = (title, body) => {
      const reason = skips[title];
      if (reason !== undefined) it.skip(`${title} (skipped: ${reason})`, body);
      else it(title, body);
    };

    beforeAll(async () => {
      fx = await create();
      t.s = fx.backend;
      t.bucket = fx.bucket;
      await t.s.ensureBucket(t.bucket);
    });
    afterAll(async () => {
      await t.s.close();
      await fx.dispose();
    });
    defineObjectCases(test, t);
    defineListingCases(test, t);
    defineClientCases(test, t);
  });
}

/** Cases: puts, gets, ranges, streams, heads and missing keys or buckets. */
function defineObjectCases(test: CaseFn, t: Target): void {
  test("puts and gets strings and bytes exactly", async () => {
    await t.s.put(t.bucket, "c/a.txt", "héllo");
    await t.s.put(t.bucket, "c/b.bin", new Uint8Array([0, 255, 1]));
    expect((await t.s.get(t.bucket, "c/a.txt")).toString("utf8")).toBe("héllo");
    expect([...(await t.s.get(t.bucket, "c/b.bin"))]).toEqual([0, 255, 1]);
  });

  test("overwrites an object whole", async () => {
    await t.s.put(t.bucket, "c/over", "a much longer first version");
    await t.s.put(t.bucket, "c/over", "short");
    expect((await t.s.get(t.bucket, "c/over")).toString()).toBe("short");
  });

  test("reads byte ranges: bytes=1-4 of 0123456789 is 1234", async () => {
    await t.s.put(t.bucket, "c/digits", "0123456789");
    expect((await t.s.get(t.bucket, "c/digits", { start: 1, end: 4 })).toString()).toBe("1234");
    expect((await t.s.get(t.bucket, "c/digits", { start: 7 })).toString()).toBe("789");
    expect((await t.s.get(t.bucket, "c/digits", { start: 8, end: 100 })).toString()).toBe("89");
  });

  test("streams whole objects and ranges", async () => {
    await t.s.put(t.bucket, "c/stream", "0123456789");
    expect(await text(await t.s.getStream(t.bucket, "c/stream"))).toBe("0123456789");
    expect(await text(await t.s.getStream(t.bucket, "c/stream", { start: 2, end: 5 }))).toBe("2345");
  });

  test("heads an object's size", async () => {
    await t.s.put(t.bucket, "c/sized", "12345");
    const info = await t.s.head(t.bucket, "c/sized");
    expect(info.key).toBe("c/sized");
    expect(info.size).toBe(5);
    expect(info.lastModifiedMs).toBeGreaterThan(0);
  });

  test("a missing key is TSWREN_NO_SUCH_KEY for get, head and getStream", async () => {
    await expect(t.s.get(t.bucket, "c/missing")).rejects.toMatchObject({ code: "TSWREN_NO_SUCH_KEY" });
    await expect(t.s.head(t.bucket, "c/missing")).rejects.toMatchObject({ code: "TSWREN_NO_SUCH_KEY" });
    await expect(t.s.getStream(t.bucket, "c/missing")).rejects.toMatchObject({ code: "TSWREN_NO_SUCH_KEY" });
  });

  test("a missing bucket is TSWREN_NO_SUCH_BUCKET and bucketExists says false", async () => {
    expect(await t.s.bucketExists("tswren-no-such-bucket-x")).toBe(false);
    await expect(t.s.get("tswren-no-such-bucket-x", "k")).rejects.toMatchObject({ code: "TSWREN_NO_SUCH_BUCKET" });
    await expect(t.s.list("tswren-no-such-bucket-x", "")).rejects.toMatchObject({ code: "TSWREN_NO_SUCH_BUCKET" });
  });
}

/** Cases: listing, deleting and bucket checks. */
function defineListingCases(test: CaseFn, t: Target): void {
  test("lists with plain string-prefix semantics (the Lithops prefix cases)", async () => {
    for (const key of LITHOPS_PREFIX_KEYS) await t.s.put(t.bucket, key, key);
    const keys = async (prefix: string): Promise<string[]> => (await t.s.list(t.bucket, prefix)).map((o) => o.key);
    expect(await keys("p/foo")).toEqual(["p/foo/bar/baz", "p/foo/baz", "p/foo_bar/baz", "p/foo_baz"]);
    expect(await keys("p/foo/")).toEqual(["p/foo/bar/baz", "p/foo/baz"]);
    expect(await keys("p/none")).toEqual([]);
    expect(await keys("p/")).toEqual([...LITHOPS_PREFIX_KEYS].sort());
  });

  test("lists in lexicographic key order with sizes", async () => {
    for (const k of ["o/b", "o/a/z", "o/a", "o/c1", "o/c"]) await t.s.put(t.bucket, k === "o/a" ? "o/a0" : k, k);
    const listed = await t.s.list(t.bucket, "o/");
    expect(listed.map((o) => o.key)).toEqual(["o/a/z", "o/a0", "o/b", "o/c", "o/c1"]);
    expect(listed.find((o) => o.key === "o/c1")?.size).toBe(4);
  });

  test("deletes one and many; missing keys are no error", async () => {
    for (const k of ["d/1", "d/2", "d/3", "d/x/4"]) await t.s.put(t.bucket, k, k);
    await t.s.delete(t.bucket, "d/1");
    await t.s.delete(t.bucket, "d/never-there");
    await t.s.deleteMany(t.bucket, ["d/2", "d/x/4", "d/nope"]);
    expect((await t.s.list(t.bucket, "d/")).map((o) => o.key)).toEqual(["d/3"]);
  });

  test("headBucket names an existing bucket; a missing one is TSWREN_NO_SUCH_BUCKET", async () => {
    const client = new Storage(t.s, t.bucket);
    expect(await client.headBucket()).toEqual({ bucket: t.bucket, backend: t.s.name });
    await expect(client.headBucket("tswren-no-such-bucket-x")).rejects.toMatchObject({ code: "TSWREN_NO_SUCH_BUCKET" });
  });
}

/** Cases: the Storage client over the backend: streamed puts and the default bucket. */
function defineClientCases(test: CaseFn, t: Target): void {
  test("put from a Readable of unknown length stores it whole (20 MiB: several multipart parts on S3)", async () => {
    const client = new Storage(t.s, t.bucket);
    const chunks = (): Generator<Buffer> => patternChunks(20 * 1024 * 1024 + 123, 300_007);
    await client.put("m/streamed", Readable.from(chunks()));
    const expected = createHash("sha256");
    for (const c of chunks()) expected.update(c);
    const stored = await client.get("m/streamed");
    expect(stored.length).toBe(20 * 1024 * 1024 + 123);
    expect(createHash("sha256").update(stored).digest("hex")).toBe(expected.digest("hex"));
    await client.put("m/small", Readable.from([Buffer.from("tiny "), "stream"]));
    expect((await client.get("m/small")).toString()).toBe("tiny stream");
    await client.put("m/empty", Readable.from([]));
    expect((await client.head("m/empty")).size).toBe(0);
  });

  test("put from a Readable that fails part-way rejects and leaves no object", async () => {
    const client = new Storage(t.s, t.bucket);
    async function* failing(): AsyncGenerator<Buffer> {
      yield* patternChunks(9 * 1024 * 1024, 1 << 20);
      throw new Error("the source broke");
    }
    await expect(client.put("m/broken", Readable.from(failing()))).rejects.toThrow(/the source broke/);
    await expect(client.head("m/broken")).rejects.toMatchObject({ code: "TSWREN_NO_SUCH_KEY" });
  });

  test("the Storage client wraps the backend with a default bucket", async () => {
    const client = new Storage(t.s, t.bucket);
    await client.put("w/k", "v");
    expect((await client.get("w/k")).toString()).toBe("v");
    expect((await client.get("w/k", { range: { start: 0, end: 0 } })).toString()).toBe("v");
    expect(await client.listKeys("w/")).toEqual(["w/k"]);
    expect((await client.head("w/k")).size).toBe(1);
    await client.deleteMany(["w/k"]);
    expect(await client.listKeys("w/")).toEqual([]);
  });
}
