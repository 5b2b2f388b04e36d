import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LocalhostStorage } from "../../kernel-lib/src/storage/localhost.js";
import { INLINE_DELETE_FILES } from "../../kernel-lib/src/storage/localhost-delete.js";
import { storageContract } from "../contract/storage.contract.js";

storageContract("localhost", async () => {
  const root = await mkdtemp(path.join(tmpdir(), "tswren-storage-"));
  return { backend: new LocalhostStorage({ storage_root: root }), bucket: "contract", dispose: () => rm(root, { recursive: true, force: true }) };
});

describe("localhost storage specifics", () => {
  it("rejects keys that would escape the bucket folder", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "tswren-storage-"));
    const s = new LocalhostStorage({ storage_root: root });
    await s.ensureBucket("b");
    for (const key of ["../x", "a/../../x", "/abs", "a//b", "dir/"]) {
      await expect(s.put("b", key, "x")).rejects.toMatchObject({ code: "TSWREN_BAD_KEY" });
    }
    await rm(root, { recursive: true, force: true });
  });

  it("leaves no temporary files visible and prunes emptied folders on delete", async () => {
    const root = await mkdtemp(path.join(tmpdir(), "tswren-storage-"));
    const s = new LocalhostStorage({ storage_root: root });
    await s.ensureBucket("b");
    await s.put("b", "deep/er/key", "x".repeat(100_000));
    await s.put("b", "deep/er/small", "y");
    expect((await s.list("b", "")).map((o) => o.key)).toEqual(["deep/er/key", "deep/er/small"]);
    await s.deleteMany("b", ["deep/er/key", "deep/er/small"]);
    expect(await readdir(path.join(root, "b"))).toEqual([]);
    await rm(root, { recursive: true, force: true });
  });
});

describe("localhost storage: deleting a prefix in one sweep", () => {
  async function fresh(): Promise<{ root: string; s: LocalhostStorage }> {
    const root = await mkdtemp(path.join(tmpdir(), "tswren-storage-sweep-"));
    const s = new LocalhostStorage({ storage_root: root });
    await s.ensureBucket("b");
    return { root, s };
  }

  function sweep(s: LocalhostStorage): (bucket: string, prefix: string) => Promise<number> {
    const cap = s.capabilities.prefixDelete;
    if (cap === undefined) throw new Error("localhost storage has no prefixDelete capability");
    return (bucket, prefix) => cap.deletePrefix(bucket, prefix);
  }

  it("deletes exactly the keys under a plain string prefix, counts them, and keeps the rest", async () => {
    const { root, s } = await fresh();
    for (const k of ["jobs/ab-0-M000/00000/status.json", "jobs/ab-0-M000/00001/status.json", "jobs/ab-0-M001/00000/status.json", "jobs/ab-0/func", "jobs/ab-1-M000/00000/status.json", "jobs/abc-0-M000/x", "other"]) await s.put("b", k, "x");
    expect(await sweep(s)("b", "jobs/ab-0-")).toBe(3);
    expect(await sweep(s)("b", "jobs/ab-0/")).toBe(1);
    expect((await s.list("b", "")).map((o) => o.key)).toEqual(["jobs/ab-1-M000/00000/status.json", "jobs/abc-0-M000/x", "other"]);
    expect(await sweep(s)("b", "jobs/nothing-")).toBe(0);
    expect(await sweep(s)("b", "missing/folder/")).toBe(0);
    await s.put("b", "jobs/ab-0-M000/00000/status.json", "again"); // the folder cache was dropped
    expect(await s.get("b", "jobs/ab-0-M000/00000/status.json")).toEqual(Buffer.from("again"));
    await rm(root, { recursive: true, force: true });
  });

  it("refuses an empty prefix and one that would leave the bucket, deleting nothing", async () => {
    const { root, s } = await fresh();
    await s.put("b", "keep", "x");
    for (const prefix of ["", "/", "../", "a/../", "..", "a//b"]) {
      await expect(sweep(s)("b", prefix)).rejects.toMatchObject({ code: "TSWREN_BAD_KEY" });
    }
    expect((await s.list("b", "")).map((o) => o.key)).toEqual(["keep"]);
    await rm(root, { recursive: true, force: true });
  });

  it("takes a large sweep out of the bucket at once and removes it in the background", async () => {
    const { root, s } = await fresh();
    const n = INLINE_DELETE_FILES + 100;
    for (let i = 0; i < n; i++) await s.put("b", `jobs/ex-0-M000/${String(i).padStart(5, "0")}/status.json`, "{}");
    expect(await sweep(s)("b", "jobs/ex-0-")).toBe(n);
    expect(await s.list("b", "")).toEqual([]);
    // the detached remover empties the trash; wait for it (bounded), not for a fixed time
    const tmp = path.join(root, ".tmp");
    const deadline = Date.now() + 60_000;
    while ((await readdir(tmp)).some((e) => e.startsWith("trash-")) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await readdir(tmp)).filter((e) => e.startsWith("trash-"))).toEqual([]);
    await rm(root, { recursive: true, force: true });
  });
});
