/**
 * Storage behaviours a Lithops user relies on, through a real executor: job data deleted under a
 * live executor is uploaded again (the real `tswren clean` CLI from another process on localhost
 * storage; another S3 client on MinIO), and `lineAligned: false` reaches the partitioner.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functionExecutor, objects, type CloudObject, type FunctionExecutor } from "../../kernel-lib/src/index.js";
import { validateSection } from "../../kernel-lib/src/config/validate.js";
import { S3Storage, s3StorageOptions } from "../../kernel-lib/src/storage/s3.js";
import type { MinioEndpoint } from "../global-setup.js";
import { caught } from "../helpers/caught.js";
import { tempDir, testExecutor } from "../helpers/executor.js";
import { freshBucket, minioSection, suiteMinio } from "../helpers/minio.js";

const repo = path.resolve(import.meta.dirname, "../..");
const cli = path.join(repo, "kernel-lib/bin/tswren.js");

const addSeven = (x: number): number => x + 7;

describe("job data deleted under a live executor", () => {
  const root = tempDir("gaps-clean");
  const fx = testExecutor(root, { config: { localhost: { worker_processes: 1 } } });
  afterAll(() => fx.close());

  it("`tswren clean` from another process: the next job uploads the function bundle again and succeeds", async () => {
    expect(await fx.getResult(await fx.map(addSeven, [1, 2]))).toEqual([8, 9]);
    const env = { ...process.env, TSWREN_CONFIG: JSON.stringify({ localhost_storage: { storage_root: root } }) };
    const cleaned = spawnSync(process.execPath, [cli, "clean"], { encoding: "utf8", env, timeout: 60_000 });
    expect(cleaned.status).toBe(0);
    expect(cleaned.stdout).toMatch(/deleted [1-9]\d* objects/);
    expect(await (await fx.storage()).listKeys(`tswren.jobs/${fx.executorId}/`)).toEqual([]);
    // Another memory size starts a new worker, which has no cached copy of the function: it must
    // read the bundle from storage.
    const futures = await fx.map(addSeven, [3, 4], { runtimeMemory: 320 });
    expect(await fx.getResult(futures)).toEqual([10, 11]);
    expect((await (await fx.storage()).listKeys(`tswren.jobs/${fx.executorId}/`)).some((k) => k.endsWith(".func"))).toBe(true);
  });
});

describe("job data deleted under a live executor on MinIO", () => {
  let m: MinioEndpoint;
  let fx: FunctionExecutor;
  let bucket: string;
  beforeAll(async () => {
    m = await suiteMinio();
    bucket = freshBucket("gaps");
    fx = functionExecutor({ storage: "minio", storageBucket: bucket, dataCleaner: false, config: { minio: minioSection(m), localhost: { worker_processes: 1 } } });
  });
  afterAll(() => fx.close());

  it("objects deleted by another client (a lifecycle rule): the next job re-uploads and succeeds", async () => {
    expect(await fx.getResult(await fx.map(addSeven, [1]))).toEqual([8]);
    const other = new S3Storage(s3StorageOptions("minio", validateSection("minio", minioSection(m), "test")));
    try {
      const all = await other.list(bucket, "");
      expect(all.length).toBeGreaterThan(0);
      await other.deleteMany(bucket, all.map((o) => o.key));
    } finally {
      await other.close();
    }
    expect(await fx.getResult(await fx.map(addSeven, [5, 6], { runtimeMemory: 320 }))).toEqual([12, 13]);
  });
});

describe("lineAligned: false through map()", () => {
  const fx = testExecutor(tempDir("gaps-exact"));
  afterAll(() => fx.close());

  it("each call gets exactly its byte range; the default keeps lines whole", async () => {
    const storage = await fx.storage();
    await storage.put("exact/letters.txt", "a\nb\nc\nd\ne");
    const text = async (obj: CloudObject): Promise<string> => obj.text();
    const exact = await fx.map(text, objects(`s3://${storage.bucket}/exact/letters.txt`), { chunkSize: 3, lineAligned: false });
    expect(await fx.getResult(exact)).toEqual(["a\nb", "\nc\n", "d\ne"]);
    const aligned = await fx.map(text, objects(`s3://${storage.bucket}/exact/letters.txt`), { chunkSize: 3 });
    expect(await fx.getResult(aligned)).toEqual(["a\nb\n", "c\n", "d\ne"]);
  });

  it("lineAligned with plain items is an option error before anything runs", async () => {
    const err = await caught(fx.map(addSeven, [1], { lineAligned: false }));
    expect(err.code).toBe("TSWREN_BAD_OPTION");
    expect(err.message).toMatch(/lineAligned apply only to objects/);
  });
});
