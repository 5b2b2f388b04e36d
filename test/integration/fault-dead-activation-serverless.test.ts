/**
 * A dead activation ends its call early with its real cause (issue 12): on the OpenWhisk
 * emulator (real action proxy, activation records) and the local Knative server, a call whose
 * process is killed, or that runs past its timeout, ends within seconds of its end with the
 * cause, never at its lost-call deadline (timeout + 10 s) as TSWREN_CALL_LOST. Each executor's
 * timeout is long enough that the deadline path would exceed the test's own time limit.
 */
import openwhisk from "openwhisk";
import { describe, expect, it } from "vitest";
import { TSWREN_VERSION } from "../../kernel-lib/src/version.js";
import { serverlessFixture, type Platform } from "../helpers/serverless.js";

const platforms = serverlessFixture();

/** Long enough that a call left to its lost-call deadline would outlive the test's time limit. */
const LONG_TIMEOUT_S = 120;

describe.each<Platform>(["openwhisk", "knative"])("%s: a dead activation surfaces with its cause", (platform) => {
  it("a call whose process is killed ends as a crash naming it, the other calls finish", async () => {
    const fx = platforms.executor(platform, platform === "openwhisk" ? { chunksize: 1 } : {}, { timeout: LONG_TIMEOUT_S, retries: 0 });
    const futures = await fx.map(async (x: number) => {
      if (x === 1) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        process.kill(process.pid, "SIGKILL");
      }
      return x;
    }, [0, 1, 2]);
    const results = await fx.getResult(futures, { throwExcept: false });
    if (platform === "knative") await platforms.restartKnative();
    expect(results[1]).toBeNull();
    expect(futures[1]?.error).not.toMatchObject({ code: "TSWREN_CALL_LOST" });
    expect(futures[1]?.error?.message).toMatch(platform === "openwhisk" ? /activation \w+ of action .*exited unexpectedly.*killed, crashed/s : /closed the connection while the call ran.*killed, crashed/s);
  }, 60_000);

  it("a call that ignores its timeout ends as TSWREN_TIMEOUT naming the timeout, the next call runs", async () => {
    const fx = platforms.executor(platform, platform === "openwhisk" ? { chunksize: 1 } : {}, { timeout: 3, retries: 0 });
    const [slow] = await fx.map(async () => {
      await new Promise((resolve) => setTimeout(resolve, 600_000));
      return "late";
    }, [0]);
    await fx.getResult(slow, { throwExcept: false });
    expect(slow?.error).toMatchObject({ code: "TSWREN_TIMEOUT" });
    expect(slow?.error?.message).toContain("ran past its timeout of 3 s");
    const next = await fx.map((x: number) => x + 1, [1, 2]);
    expect(await fx.getResult(next)).toEqual([2, 3]);
  }, 60_000);
});

/** A map of three calls whose second kills its own process after 300 ms. */
async function killSecondCall(fx: ReturnType<typeof platforms.executor>) {
  const futures = await fx.map(async (x: number) => {
    if (x === 1) {
      await new Promise((resolve) => setTimeout(resolve, 300));
      process.kill(process.pid, "SIGKILL");
    }
    return x;
  }, [0, 1, 2]);
  const results = await fx.getResult(futures, { throwExcept: false });
  return { futures, results };
}

describe.each<Platform>(["openwhisk", "knative"])("%s with monitoring: storage", (platform) => {
  it("a call whose process is killed still ends as a crash naming it, not at its deadline", async () => {
    const fx = platforms.executor(platform, platform === "openwhisk" ? { chunksize: 1 } : {}, { timeout: LONG_TIMEOUT_S, retries: 0, monitoring: "storage" });
    const { futures, results } = await killSecondCall(fx);
    if (platform === "knative") await platforms.restartKnative();
    expect(results).toEqual([0, null, 2]);
    expect(futures[1]?.error).toMatchObject({ code: "TSWREN_WORKER_CRASHED" });
    expect(futures[1]?.error?.message).toMatch(platform === "openwhisk" ? /activation \w+ of action .*exited unexpectedly/s : /closed the connection while the call ran/s);
  }, 60_000);
});

describe("openwhisk: activations created by the remote invoker", () => {
  it("a fanned-out call whose process is killed ends as a crash naming its activation, not at its deadline", async () => {
    const fx = platforms.executor("openwhisk", { chunksize: 1, remote_invoker: true }, { timeout: LONG_TIMEOUT_S, retries: 0 });
    const { futures, results } = await killSecondCall(fx);
    expect(results).toEqual([0, null, 2]);
    expect(futures[1]?.error).toMatchObject({ code: "TSWREN_WORKER_CRASHED" });
    expect(futures[1]?.error?.message).toMatch(/activation \w+ of action .*exited unexpectedly/s);
    // The crashed activation is one the remote invoker created (its result lists it), not one the client sent.
    const crashed = futures[1]?.workerId?.replace(/^openwhisk-/, "");
    const { apihost, apiKey, namespace } = platforms.ow;
    const ow = openwhisk({ apihost, api_key: apiKey, namespace });
    const records = await Promise.all((await ow.activations.list({ limit: 50 })).map((a) => ow.activations.get({ name: a.activationId })));
    const fannedOut = records.flatMap((r) => (r.response?.result as { remoteInvoke?: { activationIds?: string[] } } | undefined)?.remoteInvoke?.activationIds ?? []);
    expect(fannedOut).toContain(crashed);
  }, 60_000);

  it("an invoker whose fanned-out call is over the platform's time limit ends as TSWREN_TIMEOUT", async () => {
    const fx = platforms.executor("openwhisk", { chunksize: 1, runtime_memory: 384, remote_invoker: true }, { timeout: 3, retries: 0 });
    const futures = await fx.map((x: number) => {
      const end = Date.now() + (x === 1 ? 120_000 : 0);
      while (Date.now() < end) { /* blocks the event loop: only the platform can stop it */ }
      return x;
    }, [0, 1]);
    expect(await fx.getResult(futures, { throwExcept: false })).toEqual([0, null]);
    expect(futures[1]?.error).toMatchObject({ code: "TSWREN_TIMEOUT" });
    expect(futures[1]?.error?.message).toMatch(/platform stopped the openwhisk activation/);
  }, 60_000);
});

describe("openwhisk: the platform's time limit", () => {
  it("a call that blocks its event loop past the action's limit ends as TSWREN_TIMEOUT read from the activation record", async () => {
    // Its own action (another memory size): deployed with this timeout's limit, 3 s + 5 s.
    const fx = platforms.executor("openwhisk", { chunksize: 1, runtime_memory: 384 }, { timeout: 3, retries: 0 });
    const [blocked] = await fx.map(() => {
      const end = Date.now() + 120_000;
      while (Date.now() < end) { /* blocks the event loop: only the platform can stop it */ }
      return "never";
    }, [0]);
    await fx.getResult(blocked, { throwExcept: false });
    expect(blocked?.error).toMatchObject({ code: "TSWREN_TIMEOUT" });
    expect(blocked?.error?.message).toMatch(/platform stopped the openwhisk activation \w+ .*exceeded its time limits of 8000 milliseconds/);
  }, 60_000);

  it("an action deployed for a shorter timeout has its limit raised for an executor with a longer one (never lowered)", async () => {
    const short = platforms.executor("openwhisk", { chunksize: 1, runtime_memory: 448 }, { timeout: 3, retries: 0 });
    await short.callAsync((x: number) => x, 1);
    expect(await short.getResult()).toBe(1);
    const long = platforms.executor("openwhisk", { chunksize: 1, runtime_memory: 448 }, { timeout: 30, retries: 0 });
    await long.callAsync(async (ms: number) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return "slept";
    }, 10_000);
    expect(await long.getResult()).toBe("slept");
    const { apihost, apiKey, namespace } = platforms.ow;
    const action = await openwhisk({ apihost, api_key: apiKey, namespace }).actions.get({ name: `tswren/tswren-runtime-${TSWREN_VERSION}-448mb` });
    expect(action.limits).toMatchObject({ timeout: 35_000 });
  }, 60_000);
});
