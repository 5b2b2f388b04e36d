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

/** Run the storage contract against the backend made by `create`. */
export function storageContract(name: string, create: () => Promise<StorageFixture>, skips: Record<string, string> = {}): void {
  describe(`storage contract: ${name}`, () => {
    let fx: StorageFixture;
    let s: StorageBackend;
    let bucket: string;
    const test = (title: string, body: () => Promise<void>): void => {
      const reason = skips[title];
      if (reason !== undefined) it.skip(`${title} (skipped: ${reason})`, body);
      else it(title, body);
    };

    beforeAll(async () => {
      fx = await create();
      s = fx.backend;
      bucket = fx.bucket;
      await s.ensureBucket(bucket);
    });
    afterAll(async () => {
      await s.close();
      await fx.dispose();
    });

    test("puts and gets strings and bytes exactly", async () => {
      await s.put(bucket, "c/a.txt", "héllo");
      await s.put(bucket, "c/b.bin", new Uint8Array([0, 255, 1]));
      expect((await s.get(bucket, "c/a.txt")).toString("utf8")).toBe("héllo");
      expect([...(await s.get(bucket, "c/b.bin"))]).toEqual([0, 255, 1]);
    });

    test("overwrites an object whole", async () => {
      await s.put(bucket, "c/over", "a much longer first version");
      await s.put(bucket, "c/over", "short");
      expect((await s.get(bucket, "c/over")).toString()).toBe("short");
    });

    test("reads byte ranges: bytes=1-4 of 0123456789 is 1234", async () => {
      await s.put(bucket, "c/digits", "0123456789");
      expect((await s.get(bucket, "c/digits", { start: 1, end: 4 })).toString()).toBe("1234");
      expect((await s.get(bucket, "c/digits", { start: 7 })).toString()).toBe("789");
      expect((await s.get(bucket, "c/digits", { start: 8, end: 100 })).toString()).toBe("89");
    });

    test("streams whole objects and ranges", async () => {
      await s.put(bucket, "c/stream", "0123456789");
      expect(await text(await s.getStream(bucket, "c/stream"))).toBe("0123456789");
      expect(await text(await s.getStream(bucket, "c/stream", { start: 2, end: 5 }))).toBe("2345");
    });

    test("heads an object's size", async () => {
      await s.put(bucket, "c/sized", "12345");
      const info = await s.head(bucket, "c/sized");
      expect(info.key).toBe("c/sized");
      expect(info.size).toBe(5);
      expect(info.lastModifiedMs).toBeGreaterThan(0);
    });

    test("a missing key is TSWREN_NO_SUCH_KEY for get, head and getStream", async () => {
      await expect(s.get(bucket, "c/missing")).rejects.toMatchObject({ code: "TSWREN_NO_SUCH_KEY" });
      await expect(s.head(bucket, "c/missing")).rejects.toMatchObject({ code: "TSWREN_NO_SUCH_KEY" });
      await expect(s.getStream(bucket, "c/missing")).rejects.toMatchObject({ code: "TSWREN_NO_SUCH_KEY" });
    });

    test("a missing bucket is TSWREN_NO_SUCH_BUCKET and bucketExists says false", async () => {
      expect(await s.bucketExists("tswren-no-such-bucket-x")).toBe(false);
      await expect(s.get("tswren-no-such-bucket-x", "k")).rejects.toMatchObject({ code: "TSWREN_NO_SUCH_BUCKET" });
      await expect(s.list("tswren-no-such-bucket-x", "")).rejects.toMatchObject({ code: "TSWREN_NO_SUCH_BUCKET" });
    });

    test("lists with plain string-prefix semantics (the Lithops prefix cases)", async () => {
      for (const key of LITHOPS_PREFIX_KEYS) await s.put(bucket, key, key);
      const keys = async (prefix: string): Promise<string[]> => (await s.list(bucket, prefix)).map((o) => o.key);
      expect(await keys("p/foo")).toEqual(["p/foo/bar/baz", "p/foo/baz", "p/foo_bar/baz", "p/foo_baz"]);
      expect(await keys("p/foo/")).toEqual(["p/foo/bar/baz", "p/foo/baz"]);
      expect(await keys("p/none")).toEqual([]);
      expect(await keys("p/")).toEqual([...LITHOPS_PREFIX_KEYS].sort());
    });

    test("lists in lexicographic key order with sizes", async () => {
      for (const k of ["o/b", "o/a/z", "o/a", "o/c1", "o/c"]) await s.put(bucket, k === "o/a" ? "o/a0" : k, k);
      const listed = await s.list(bucket, "o/");
      expect(listed.map((o) => o.key)).toEqual(["o/a/z", "o/a0", "o/b", "o/c", "o/c1"]);
      expect(listed.find((o) => o.key === "o/c1")?.size).toBe(4);
    });

    test("deletes one and many; missing keys are no error", async () => {
      for (const k of ["d/1", "d/2", "d/3", "d/x/4"]) await s.put(bucket, k, k);
      await s.delete(bucket, "d/1");
      await s.delete(bucket, "d/never-there");
      await s.deleteMany(bucket, ["d/2", "d/x/4", "d/nope"]);
      expect((await s.list(bucket, "d/")).map((o) => o.key)).toEqual(["d/3"]);
    });

    test("headBucket names an existing bucket; a missing one is TSWREN_NO_SUCH_BUCKET", async () => {
      const client = new Storage(s, bucket);
      expect(await client.headBucket()).toEqual({ bucket, backend: s.name });
      await expect(client.headBucket("tswren-no-such-bucket-x")).rejects.toMatchObject({ code: "TSWREN_NO_SUCH_BUCKET" });
    });

    test("put from a Readable of unknown length stores it whole (20 MiB: several multipart parts on S3)", async () => {
      const client = new Storage(s, bucket);
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
      const client = new Storage(s, bucket);
      async function* failing(): AsyncGenerator<Buffer> {
        yield* patternChunks(9 * 1024 * 1024, 1 << 20);
        throw new Error("the source broke");
      }
      await expect(client.put("m/broken", Readable.from(failing()))).rejects.toThrow(/the source broke/);
      await expect(client.head("m/broken")).rejects.toMatchObject({ code: "TSWREN_NO_SUCH_KEY" });
    });

    test("the Storage client wraps the backend with a default bucket", async () => {
      const client = new Storage(s, bucket);
      await client.put("w/k", "v");
      expect((await client.get("w/k")).toString()).toBe("v");
      expect((await client.get("w/k", { range: { start: 0, end: 0 } })).toString()).toBe("v");
      expect(await client.listKeys("w/")).toEqual(["w/k"]);
      expect((await client.head("w/k")).size).toBe(1);
      await client.deleteMany(["w/k"]);
      expect(await client.listKeys("w/")).toEqual([]);
    });
  });
}
