import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { engineOf } from "../../kernel-lib/src/internal.js";
import { functionExecutor, objects, type CloudObject, type FunctionExecutor } from "../../kernel-lib/src/index.js";
import type { MinioEndpoint } from "../global-setup.js";
import { freshBucket, minioSection, suiteMinio } from "../helpers/minio.js";
import { startMinio } from "../services/minio.js";
import { expectClassicExamples } from "../helpers/classic.js";

// The job protocol on real MinIO: function bundles, inputs, statuses and outputs travel through
// S3 storage while calls run in the localhost worker pool.

let m: MinioEndpoint;
let fx: FunctionExecutor;
let bucket: string;

function minioExecutor(server: MinioEndpoint, b: string, extra: Record<string, unknown> = {}): FunctionExecutor {
  return functionExecutor({ storage: "minio", storageBucket: b, dataCleaner: false, config: { minio: minioSection(server), ...extra } });
}

beforeAll(async () => {
  m = await suiteMinio();
  bucket = freshBucket("jobs");
  fx = minioExecutor(m, bucket, { tswren: { storage_prefix: "scoped/jobs" } });
});
afterAll(() => fx.close());

async function keysUnder(prefix: string): Promise<string[]> {
  return (await fx.storage()).listKeys(prefix);
}

describe("the classic examples with MinIO storage", () => {
  it("map, callAsync and mapReduce give [8, 9, 10, 11], 10 and 38, creating the bucket", async () => {
    await expectClassicExamples(fx);
  });

  it("writes every job key under storage_prefix in the protocol's layout", async () => {
    const futures = await fx.map((n: number) => new Uint8Array(n).fill(1), [10, 100_000]);
    await fx.getResult(futures);
    const job = `scoped/jobs/${fx.executorId}-${futures[0]?.jobId}`;
    let keys = await keysUnder("");
    // Localhost compute stores statuses in batches per job, within 100 ms of the calls' ends.
    for (let i = 0; !keys.some((k) => k.startsWith(`${job}/statuses/`)) && i < 100; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      keys = await keysUnder("");
    }
    expect(keys.every((k) => k.startsWith("scoped/jobs/"))).toBe(true);
    expect(keys.some((k) => new RegExp(`^${job}/statuses/[^/]+\\.gz$`).test(k))).toBe(true);
    expect(keys).toContain(`${job}/00001/output`);
    expect(keys.some((k) => new RegExp(`^scoped/jobs/${fx.executorId}/[0-9a-f]+\\.func$`).test(k))).toBe(true);
  });

  it("passes large inputs through the job's data blob", async () => {
    const big = new Float64Array(50_000).fill(2.5);
    const futures = await fx.map((a: Float64Array) => a.reduce((s, v) => s + v, 0), [big, big]);
    expect(await fx.getResult(futures)).toEqual([125_000, 125_000]);
    expect(await keysUnder(`scoped/jobs/${fx.executorId}-${futures[0]?.jobId}/data`)).toHaveLength(1);
  });
});

describe("data jobs over objects in MinIO", () => {
  const thousand = Array.from({ length: 1000 }, (_, i) => `row ${String(i).padStart(5, "0")}`); // 9 chars + "\n"
  beforeAll(async () => {
    const s = await fx.storage();
    await s.put("data/thousand.txt", `${thousand.join("\n")}\n`);
    await s.put("data/letters.txt", "a\nb\nc\nd\ne");
    await s.put("data/long.txt", `${"L".repeat(19)}\nb\n`);
  });

  const readAll = async (source: string, chunk: { chunkSize?: number; chunkNumber?: number }, how: "lines" | "text" | "stream"): Promise<{ parts: number; lines: string[] }> => {
    const futures = await fx.map(async (obj: CloudObject, ctx) => {
      const arg = ctx.id >= 0 ? how : how;
      if (arg === "lines") {
        const out: string[] = [];
        for await (const l of obj.lines()) out.push(l);
        return out;
      }
      if (arg === "text") return (await obj.text()).split("\n").filter((l, i, all) => i < all.length - 1 || l !== "");
      const chunks: Buffer[] = [];
      for await (const c of await obj.stream()) chunks.push(Buffer.from(c as Uint8Array));
      return Buffer.concat(chunks).toString().split("\n").filter((l, i, all) => i < all.length - 1 || l !== "");
    }, objects(source), { ...chunk, capture: { how } });
    const results = await fx.getResult(futures);
    return { parts: results.length, lines: results.flat() };
  };

  it("1000 lines of 10 bytes: chunk 1000 gives 10 parts, 1005 gives 10, chunkNumber 3 gives 3; every line once, in order", async () => {
    const src = `s3://${bucket}/data/thousand.txt`;
    for (const [chunk, parts] of [[{ chunkSize: 1000 }, 10], [{ chunkSize: 1005 }, 10], [{ chunkNumber: 3 }, 3]] as const) {
      for (const how of ["lines", "text", "stream"] as const) {
        expect(await readAll(src, chunk, how)).toEqual({ parts, lines: thousand });
      }
    }
  });

  it("a\\nb\\nc\\nd\\ne with chunk 2 keeps the last line; a 20-byte line then b\\n with chunk 4 lands whole", async () => {
    expect(await readAll(`s3://${bucket}/data/letters.txt`, { chunkSize: 2 }, "lines")).toEqual({ parts: 5, lines: ["a", "b", "c", "d", "e"] });
    expect(await readAll(`s3://${bucket}/data/long.txt`, { chunkSize: 4 }, "lines")).toEqual({ parts: 6, lines: ["L".repeat(19), "b"] });
    expect(await readAll(`s3://${bucket}/data/letters.txt`, {}, "text")).toEqual({ parts: 1, lines: ["a", "b", "c", "d", "e"] });
  });

  it("a prefix lists its objects in lexicographic order", async () => {
    const futures = await fx.map((obj: CloudObject) => obj.key, objects(`s3://${bucket}/data/`));
    expect(await fx.getResult(futures)).toEqual(["data/letters.txt", "data/long.txt", "data/thousand.txt"]);
  });
});

describe("cleaning and bad input", () => {
  it("clean() deletes only this executor's keys; user objects in the same bucket survive", async () => {
    const other = minioExecutor(m, bucket, { tswren: { storage_prefix: "scoped/jobs" } });
    const s = await other.storage();
    await s.put("scoped/jobs/user-file.txt", "not a job key");
    await other.map((x: number) => x, [1, 2]);
    await other.getResult();
    await other.clean();
    const left = await s.listKeys("");
    expect(left.filter((k) => k.includes(other.executorId))).toEqual([]);
    expect(left).toContain("scoped/jobs/user-file.txt");
    expect(left).toContain("data/thousand.txt");
    expect(left.some((k) => k.includes(fx.executorId))).toBe(true);
    await other.close();
  });

  it("wrong credentials fail with a clear error before anything is invoked, without the secret", async () => {
    const bad = functionExecutor({ storage: "minio", storageBucket: freshBucket("creds"), config: { minio: { ...minioSection(m), secret_access_key: "wrong-secret-123456" } } });
    const err = await bad.map((x: number) => x, [1]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "TSWREN_STORAGE_CREDENTIALS" });
    expect((err as Error).message).not.toContain("wrong-secret-123456");
    expect(engineOf(bad).registeredFutures()).toHaveLength(0);
    await bad.close();
  });

  it("an unreachable endpoint fails fast with a clear error", async () => {
    const bad = functionExecutor({ storage: "minio", config: { minio: { ...minioSection(m), endpoint: "http://127.0.0.1:9" } } });
    const started = Date.now();
    await expect(bad.map((x: number) => x, [1])).rejects.toMatchObject({ code: "TSWREN_STORAGE_UNREACHABLE" });
    expect(Date.now() - started).toBeLessThan(15_000);
    await bad.close();
  });
});

describe("MinIO stopped in the middle of a job", () => {
  it("gives errors on the calls, not a hang", async () => {
    const own = await startMinio();
    const job = functionExecutor({ storage: "minio", storageBucket: "tswren-stop", dataCleaner: false, config: { minio: minioSection(own) } });
    try {
      // Each call writes to storage after its sleep (statuses travel over IPC on localhost: a call
      // that needs no storage after MinIO stopped ends with its value).
      const futures = await job.map(async (ms: number, ctx) => {
        await new Promise((r) => setTimeout(r, ms));
        await ctx.storage.put(`after-${ctx.callId}`, "x");
        return ms;
      }, [1500, 1500, 1500, 1500]);
      await own.stop();
      const started = Date.now();
      const results = await job.getResult(futures, { throwExcept: false, timeout: 60 });
      expect(results).toEqual([null, null, null, null]);
      expect(futures.every((f) => f.error !== undefined)).toBe(true);
      expect(futures[0]?.error?.message).toMatch(/storage|unreachable|ECONNREFUSED/i);
      expect(Date.now() - started).toBeLessThan(60_000);
    } finally {
      await job.close();
    }
  });
});
