/**
 * "It failed, I fixed it, I run it again" on the serverless backends (issue 12): the OpenWhisk
 * emulator (real action proxy) and the local Knative server, job data in MinIO. A refused
 * submission leaves no futures and writes nothing; a thrown error (a user error, a dead
 * activation) consumes its futures; the fixed map + getResult() gives the new job's results.
 */
import { describe, expect, it } from "vitest";
import { objects, RemoteFunctionError, type FunctionExecutor } from "../../kernel-lib/src/index.js";
import { engineOf } from "../../kernel-lib/src/internal.js";
import { ErrorCodes } from "../../kernel-lib/src/errors.js";
import { caught } from "../helpers/caught.js";
import { serverlessFixture, type Platform } from "../helpers/serverless.js";

const platforms = serverlessFixture();

declare const Mth: { max(a: number, b: number): number };

/** Submissions refused before anything is invoked, by kind. */
const refusals: Array<[string, (fx: FunctionExecutor, bucket: string) => Promise<unknown>, string]> = [
  ["an unresolved name (Mth.max)", (fx) => fx.map((x: number) => Mth.max(x, 1), [1, 2]), ErrorCodes.UNRESOLVED_NAME],
  ["an unserializable input", (fx) => fx.map((x: { f: () => number }) => x, [{ f: () => 1 }]), ErrorCodes.NOT_SERIALIZABLE],
  ["a missing source", (fx, bucket) => fx.map((o: unknown) => o, objects(`s3://${bucket}/no-such-folder/`)), ""],
  ["a non-function", (fx) => fx.map(42 as never, [1]), ErrorCodes.BAD_INPUT],
  ["a non-function reducer", (fx) => fx.mapReduce((x: number) => x, [1], 7 as never), ErrorCodes.CAPTURE_FAILED],
];

const platformExecutor = (platform: Platform, options: { timeout?: number; retries?: number } = {}): FunctionExecutor =>
  platforms.executor(platform, platform === "openwhisk" ? { chunksize: 1 } : {}, { retries: 0, ...options });

describe.each<Platform>(["openwhisk", "knative"])("%s: no sticky errors", (platform) => {
  it.each(refusals)("a map refused for %s leaves no futures and writes nothing; a fixed map + getResult() gives the new results", async (_what, refuse, code) => {
    const fx = platformExecutor(platform);
    const warm = await fx.map((x: number) => x, [0]);
    await fx.getResult(warm);
    const storage = await fx.storage();
    const before = await storage.listKeys();
    const registered = engineOf(fx).registeredFutures().length;
    const err = await caught(refuse(fx, storage.bucket));
    if (code !== "") expect(err.code).toBe(code);
    expect(engineOf(fx).registeredFutures()).toHaveLength(registered);
    expect(await storage.listKeys()).toEqual(before);
    expect(await fx.getResult()).toEqual([]);
    expect(await fx.wait()).toEqual([[], []]);
    const futures = await fx.map((x: number) => Math.max(x, 1) * 10, [0, 2, 3]);
    expect(Number(futures[0]?.jobId.slice(1))).toBe(Number(warm[0]?.jobId.slice(1)) + 1);
    expect(await fx.getResult()).toEqual([10, 20, 30]);
  }, 60_000);

  it("a thrown error consumes its futures: getResult() and wait() then see only the fixed job", async () => {
    const fx = platformExecutor(platform);
    await fx.map((x: number) => {
      if (x === 2) throw new Error("boom two");
      return x;
    }, [1, 2, 3]);
    const err = await fx.getResult().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteFunctionError);
    expect((err as Error).message).toContain("boom two");
    expect(await fx.getResult()).toEqual([]);
    const fixed = await fx.map((x: number) => x * 2, [1, 2, 3]);
    const [done, notDone] = await fx.wait();
    expect(notDone).toEqual([]);
    expect(done).toEqual(fixed);
    expect(await fx.getResult()).toEqual([2, 4, 6]);
  }, 60_000);

  it("a call the platform ended (OpenWhisk: its process killed; Knative: past its timeout) is reported once; the fixed map + getResult() gives the new results", async () => {
    // The local Knative server is one process that nothing restarts: there the call overruns its timeout instead.
    const fx = platformExecutor(platform, { timeout: platform === "openwhisk" ? 120 : 3 });
    await fx.map(async (x: number) => {
      if (x === 1) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        if (process.env["__OW_ACTIVATION_ID"] !== undefined) process.kill(process.pid, "SIGKILL");
        await new Promise((resolve) => setTimeout(resolve, 600_000));
      }
      return x;
    }, [0, 1, 2]);
    const err = await caught(fx.getResult());
    expect(err.code).toBe(platform === "openwhisk" ? ErrorCodes.WORKER_CRASHED : ErrorCodes.TIMEOUT);
    expect(await fx.getResult()).toEqual([]);
    await fx.map((x: number) => x + 100, [1, 2]);
    expect(await fx.getResult()).toEqual([101, 102]);
  }, 60_000);
});
