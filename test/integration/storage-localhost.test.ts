import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LocalhostStorage } from "../../kernel-lib/src/storage/localhost.js";
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
