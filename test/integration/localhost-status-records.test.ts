/**
 * Localhost status records: statuses travel to futures over IPC, and the pool stores them in a
 * few batch objects per job (no `status.json` per call) that still serve `tswren logs`, the
 * storage monitor and the data cleaner.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { createStorageBackend } from "../../kernel-lib/src/storage/registry.js";
import { readJobStatuses } from "../../kernel-lib/src/storage/status-records.js";
import { tempDir, testExecutor } from "../helpers/executor.js";

const repo = path.resolve(import.meta.dirname, "../..");
const cli = path.join(repo, "kernel-lib/bin/tswren.js");

async function storedKeys(root: string): Promise<string[]> {
  const storage = await createStorageBackend("localhost", { storage_root: root });
  try {
    return (await storage.bucketExists("tswren-data")) ? (await storage.list("tswren-data", "tswren.jobs/")).map((o) => o.key) : [];
  } finally {
    await storage.close();
  }
}

describe("localhost status records", () => {
  it("a 2000-call map stores every status in a few batches, no status.json, and `tswren logs` prints them", async () => {
    const root = tempDir("status-records");
    const fx = testExecutor(root, { workers: 2 });
    let jobId = "";
    try {
      const futures = await fx.map((x: number) => { console.log(`call says ${x}`); return x; }, Array.from({ length: 2000 }, (_, i) => i));
      jobId = futures[0]?.jobId ?? "";
      expect((await fx.getResult(futures)).length).toBe(2000);
    } finally {
      await fx.close(); // stores the batches still pending
    }
    const found = await storedKeys(root);
    expect(found.filter((k) => k.endsWith("/status.json"))).toEqual([]);
    const batches = found.filter((k) => k.includes(`${fx.executorId}-${jobId}/statuses/`));
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.length).toBeLessThan(100);
    const storage = await createStorageBackend("localhost", { storage_root: root });
    const statuses = await readJobStatuses(storage, { bucket: "tswren-data", prefix: "tswren.jobs", executorId: fx.executorId, jobId });
    await storage.close();
    expect(statuses.size).toBe(2000);
    expect(statuses.get("01999")).toMatchObject({ ok: true, attempt: 1, logs: "call says 1999\n" });
    const env = { ...process.env, TSWREN_CONFIG: JSON.stringify({ localhost_storage: { storage_root: root } }) };
    const logs = spawnSync(process.execPath, [cli, "logs", `${fx.executorId}-${jobId}`, "--call", "01234"], { encoding: "utf8", env, timeout: 120_000 });
    expect(logs.stderr).toBe("");
    expect(logs.stdout).toContain("--- call 01234 (attempt 1, ok");
    expect(logs.stdout).toContain("call says 1234");
    expect(logs.stdout).not.toContain("call says 1233");
  });

  it("a call whose worker died is recorded as failed, and the data cleaner leaves no record behind", async () => {
    const root = tempDir("status-records-crash");
    const fx = testExecutor(root, { workers: 2, dataCleaner: true });
    try {
      const futures = await fx.map((x: number) => { if (x === 3) process.kill(process.pid, "SIGKILL"); return x; }, [1, 2, 3, 4]);
      expect(await fx.getResult(futures, { throwExcept: false })).toEqual([1, 2, null, 4]);
      const storage = await createStorageBackend("localhost", { storage_root: root });
      const job = { bucket: "tswren-data", prefix: "tswren.jobs", executorId: fx.executorId, jobId: futures[0]?.jobId ?? "" };
      let statuses = await readJobStatuses(storage, job);
      for (let i = 0; statuses.size < 4 && i < 100; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50)); // batches are written on a 100 ms timer
        statuses = await readJobStatuses(storage, job);
      }
      await storage.close();
      expect(statuses.get("00002")).toMatchObject({ ok: false, error: { name: "WorkerDied" } });
      expect(statuses.get("00003")).toMatchObject({ ok: true });
    } finally {
      await fx.close();
    }
    expect((await storedKeys(root)).filter((k) => k.includes(fx.executorId))).toEqual([]);
  });
});
