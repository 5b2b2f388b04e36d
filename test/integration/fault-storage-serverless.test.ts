/**
 * Storage trouble is reported as storage trouble on the Knative server (issue 12): with a private
 * MinIO frozen (SIGSTOP) while a call runs, the call ends within its timeout plus a few seconds as
 * TSWREN_STORAGE naming the store, carried by the service's answer (the status write that storage
 * does not take is left running), not as a timeout or a lost call.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tempDir } from "../helpers/executor.js";
import { minioSection } from "../helpers/minio.js";
import { serverlessFixture } from "../helpers/serverless.js";
import { startMinio, type MinioServer } from "../services/minio.js";

let minio: MinioServer | undefined;
let frozenPid: number | null = null;
const marks = tempDir("storage-freeze-knative");
const platforms = serverlessFixture(() => ({ config: { minio: minioSection(started(minio)) } }));

function started(server: MinioServer | undefined): MinioServer {
  if (server === undefined) throw new Error("the private MinIO did not start (see beforeAll)");
  return server;
}

beforeAll(async () => {
  minio = await startMinio();
});
afterAll(async () => {
  if (frozenPid !== null) process.kill(frozenPid, "SIGCONT");
  await minio?.stop();
});

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

describe("knative: a frozen store", () => {
  it("a call whose output write stalls ends within its timeout + a few seconds as TSWREN_STORAGE naming the store", async () => {
    const fx = platforms.executor("knative", {}, { timeout: 6, retries: 0 });
    const go = path.join(marks, "go");
    const begun = path.join(marks, "started");
    const [future] = await fx.map(async ({ go: goFile, started: startedFile }: { go: string; started: string }) => {
      const fs = process.getBuiltinModule("node:fs");
      fs.writeFileSync(startedFile, "");
      await new Promise<void>((resolve) => {
        const t = setInterval(() => { if (fs.existsSync(goFile)) { clearInterval(t); resolve(); } }, 5);
      });
      return new Uint8Array(1 << 20).fill(7); // large: written to storage as the call's output
    }, [{ go, started: begun }]);
    await until(() => existsSync(begun));
    frozenPid = minioPid(started(minio).endpoint);
    process.kill(frozenPid, "SIGSTOP");
    const frozenAt = Date.now();
    writeFileSync(go, "");
    await fx.getResult(future, { throwExcept: false });
    const elapsedS = (Date.now() - frozenAt) / 1000;
    process.kill(frozenPid, "SIGCONT");
    frozenPid = null;
    expect(future?.error).toMatchObject({ code: "TSWREN_STORAGE" });
    expect(future?.error?.message).toMatch(/minio storage did not answer within the call's timeout of 6 s while writing the call's output/);
    // A loose bound on a shared machine: the lost-call deadline would be 6 + 10 s after the start.
    expect(elapsedS).toBeLessThan(6 + 10);
  }, 60_000);
});

/** Re-check `probe` every few milliseconds until it is true. */
async function until(probe: () => boolean): Promise<void> {
  while (!probe()) await new Promise((resolve) => setTimeout(resolve, 5));
}
