/**
 * Storage trouble is reported as storage trouble: with a private MinIO frozen (SIGSTOP) while a
 * call runs, the call ends within its timeout plus a few seconds as TSWREN_STORAGE naming the
 * store, not as a timeout of the function a minute later.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { functionExecutor, type FunctionExecutor } from "../../kernel-lib/src/index.js";
import { tempDir } from "../helpers/executor.js";
import { freshBucket, minioSection } from "../helpers/minio.js";
import { startMinio, type MinioServer } from "../services/minio.js";

/** The pid of the MinIO server listening on `endpoint` (its command line names the address). */
function minioPid(endpoint: string): number {
  const address = endpoint.replace(/^http:\/\//, "");
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if (path.basename(argv[0] ?? "") === "minio" && argv.includes(address)) return Number(entry);
    } catch {
      // the process ended while we looked
    }
  }
  throw new Error(`no MinIO process listens on ${address}`);
}

let minio: MinioServer;
let fx: FunctionExecutor;
let frozenPid: number | null = null;
const marks = tempDir("storage-freeze");

beforeAll(async () => {
  minio = await startMinio();
  fx = functionExecutor({
    storage: "minio",
    storageBucket: freshBucket("freeze"),
    dataCleaner: false,
    retries: 0,
    config: { minio: minioSection(minio), localhost: { worker_processes: 1 } },
  });
});
afterAll(async () => {
  if (frozenPid !== null) process.kill(frozenPid, "SIGCONT");
  await fx.close();
  await minio.stop();
});

describe("a frozen store", () => {
  it("a call whose output write stalls ends within its timeout + a few seconds as TSWREN_STORAGE naming the store", async () => {
    const go = path.join(marks, "go");
    const started = path.join(marks, "started");
    const [future] = await fx.map(async ({ go: goFile, started: startedFile }: { go: string; started: string }) => {
      const fs = require("node:fs") as typeof import("node:fs");
      fs.writeFileSync(startedFile, "");
      await new Promise<void>((resolve) => {
        const t = setInterval(() => { if (fs.existsSync(goFile)) { clearInterval(t); resolve(); } }, 5);
      });
      return new Uint8Array(1 << 20).fill(7); // large: written to storage as the call's output
    }, [{ go, started }], { timeout: 6 });
    await until(() => existsSync(started));
    frozenPid = minioPid(minio.endpoint);
    process.kill(frozenPid, "SIGSTOP");
    const frozenAt = Date.now();
    writeFileSync(go, "");
    await fx.getResult(future, { throwExcept: false });
    const elapsedS = (Date.now() - frozenAt) / 1000;
    process.kill(frozenPid, "SIGCONT");
    frozenPid = null;
    expect(future?.error).toMatchObject({ code: "TSWREN_STORAGE" });
    expect(future?.error?.message).toMatch(/minio storage did not answer within the call's timeout of 6 s while writing the call's output/);
    // A loose bound on a shared machine: well under the minute a timeout-then-status-write took.
    expect(elapsedS).toBeLessThan(6 + 10);
  });
});

/** Re-check `probe` every few milliseconds until it is true. */
async function until(probe: () => boolean): Promise<void> {
  while (!probe()) await new Promise((resolve) => setTimeout(resolve, 5));
}
