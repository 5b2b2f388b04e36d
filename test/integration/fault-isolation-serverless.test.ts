/**
 * One call's faults stay with that call on the serverless runtimes: the OpenWhisk emulator's
 * containers (the real action proxy) and a Knative runtime server, with job data in MinIO.
 */
import { describe, expect, it } from "vitest";
import type { RemoteFunctionError } from "../../kernel-lib/src/index.js";
import { serverlessFixture, type Platform } from "../helpers/serverless.js";

const platforms = serverlessFixture();

describe.each<Platform>(["openwhisk", "knative"])("%s: faults stay with their call", (platform) => {
  it("an uncaught error in a timer during a call fails that call with the thrown message and the user's frame", async () => {
    const fx = platforms.executor(platform, {}, { retries: 0, timeout: 30 });
    const [future] = await fx.map(async (x: number) => {
      setTimeout(function explodeLater() { throw new TypeError(`boom in a timer ${x}`); }, 10);
      await new Promise(() => undefined);
    }, [3]);
    await fx.getResult(future, { throwExcept: false });
    expect(future?.error?.message).toContain("boom in a timer 3");
    expect((future?.error as RemoteFunctionError | undefined)?.remoteStack).toMatch(/TypeError: boom in a timer 3\n\s+at (Timeout\.)?explodeLater .*tswren-function/);
  });

  it("a timer that throws after its call returned never fails a later call in the same process", async () => {
    const fx = platforms.executor(platform, {}, { retries: 0 });
    const [first] = await fx.map(() => {
      setTimeout(() => { throw new Error("late throw"); }, 20);
      return process.pid;
    }, [0]);
    const pid = await fx.getResult(first);
    // Later calls (the same warm process or another one): every one succeeds.
    const later = await fx.map(async (x: number) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      return x;
    }, [1, 2, 3, 4]);
    expect(await fx.getResult(later)).toEqual([1, 2, 3, 4]);
    expect(pid).toEqual(expect.any(Number));
  });
});
