import { afterAll, describe, expect, it } from "vitest";
import { RemoteFunctionError, type FunctionExecutor } from "../../kernel-lib/src/index.js";
import { tempDir, testExecutor } from "../helpers/executor.js";

const fx: FunctionExecutor = testExecutor(tempDir("replay"));
afterAll(() => fx.close());

function parseRow(row: string): number {
  const n = Number(row);
  if (Number.isNaN(n)) throw new TypeError(`not a number: ${row}`);
  return n;
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  const err: unknown = await p.then(() => null, (e: unknown) => e);
  if (!(err instanceof Error)) throw new Error(`expected a rejection, got ${String(err)}`);
  return err;
}

describe("fx.replay(future): a failed call run again in this process", () => {
  it("throws the call's own error, with the real stack, not a remote copy", async () => {
    const futures = await fx.map(parseRow, ["1", "x2", "3"]);
    expect(await fx.getResult(futures, { throwExcept: false })).toEqual([1, null, 3]);
    const remote = futures[1]?.error;
    expect(remote).toBeInstanceOf(RemoteFunctionError);
    const local = await rejection(fx.replay(futures[1]));
    expect(local).not.toBeInstanceOf(RemoteFunctionError);
    expect(local.name).toBe("TypeError");
    expect(local.message).toBe("not a number: x2");
    expect(local.stack).toContain("parseRow");
    expect(futures[1]?.status).toBe("error"); // the future is not changed
  });

  it("runs with the same input, extra env and a context like the worker's", async () => {
    const onlyHere = (item: { v: number }, ctx: { callId: string; attempt: number }): string => {
      if (process.env["TSWREN_WORKER"] === "1") throw new Error("fails on workers only");
      return `${item.v}|${ctx.callId}|${ctx.attempt}|${process.env["REPLAY_MARK"]}`;
    };
    const futures = await fx.map(onlyHere, [{ v: 7 }, { v: 8 }], { extraEnv: { REPLAY_MARK: "m1" } });
    await fx.getResult(futures, { throwExcept: false });
    expect(await fx.replay(futures[1] as never)).toBe("8|00001|1|m1");
    expect(process.env["REPLAY_MARK"]).toBeUndefined(); // restored after the replay
  });

  it("replays a call that timed out: its ctx.signal aborts after the call's timeout", async () => {
    const waitsForever = async (_x: number, ctx: { signal: AbortSignal }): Promise<never> => {
      await new Promise((resolve) => { ctx.signal.addEventListener("abort", resolve); });
      throw new Error(`stopped: ${(ctx.signal.reason as Error).message}`);
    };
    const [f] = await fx.map(waitsForever, [1], { timeout: 1 });
    await fx.getResult([f], { throwExcept: false } as never);
    expect(f?.error?.message).toContain("stopped: call timed out"); // the worker aborted it at 1 s
    expect((await rejection(fx.replay(f as never))).message).toBe("stopped: call timed out");
  });

  it("replays a failed reducer with its map results", async () => {
    const futures = await fx.mapReduce((x: number) => x * 2, [1, 2, 3], (xs: number[]) => {
      const sum = xs.reduce((a, b) => a + b, 0);
      if (sum > 5) throw new RangeError(`sum ${sum} too big`);
      return sum;
    });
    await expect(fx.getResult(futures)).rejects.toThrow(/sum 12 too big/);
    const reducer = futures.find((f) => f.jobId.startsWith("R"));
    expect((await rejection(fx.replay(reducer as never))).message).toBe("sum 12 too big");
  });

  it("refuses a call that succeeded and anything that is not a future, naming why", async () => {
    const [ok] = await fx.map((x: number) => x, [1]);
    await fx.getResult([ok]);
    await expect(fx.replay(ok as never)).rejects.toMatchObject({ code: "TSWREN_BAD_INPUT", message: expect.stringContaining("it succeeded") as string });
    await expect(fx.replay({} as never)).rejects.toMatchObject({ code: "TSWREN_BAD_INPUT" });
  });
});
