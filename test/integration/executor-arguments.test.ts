import { readdirSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import type { CallContext, FunctionExecutor } from "../../kernel-lib/src/index.js";
import { engineOf } from "../../kernel-lib/src/internal.js";
import { ErrorCodes } from "../../kernel-lib/src/errors.js";
import { caught } from "../helpers/caught.js";
import { tempDir, testExecutor } from "../helpers/executor.js";

// Object items and the function's parameters, as Lithops matches dict items to a function's
// parameters: named parameters `(x, y)` take object items by name (keyword arguments), a
// destructured one takes the item; a missing argument is refused before anything is invoked.
// Real local worker processes.

const root = tempDir("arguments");
const fx: FunctionExecutor = testExecutor(root);
afterAll(() => fx.close());

function written(): string[] {
  return readdirSync(root, { recursive: true, encoding: "utf8" }).sort();
}

describe("object items and named parameters (x, y)", () => {
  it("give the function its arguments by name, like Lithops' keyword arguments", async () => {
    const add = (x: number, y: number): number => x + y;
    const futures = await fx.map(add as never, [{ y: 2, x: 1 }, { x: 30, y: 4 }]);
    expect(await fx.getResult(futures)).toEqual([3, 34]);
  });

  it("a parameter with a default may be left out, and a last parameter named ctx gets the call's context", async () => {
    const fn = (x: number, y = 10, ctx?: CallContext): string => `${x + y}@${ctx?.id ?? "none"}`;
    const futures = await fx.map(fn as never, [{ x: 1 }, { x: 2, y: 0 }]);
    expect(await fx.getResult(futures)).toEqual(["11@0", "2@1"]);
  });

  it("extraArgs as an object fills a parameter for every item; as an array, the last parameters", async () => {
    const mul = (x: number, y: number): number => x * y;
    expect(await fx.getResult(await fx.map(mul as never, [{ x: 2 }, { x: 3 }], { extraArgs: { y: 5 } }))).toEqual([10, 15]);
    const scaled = (x: number, y: number, k: number): number => (x + y) * k;
    expect(await fx.getResult(await fx.map(scaled as never, [{ x: 1, y: 2 }], { extraArgs: [100] }))).toEqual([300]);
  });

  it("a function of one item (and ctx) still takes the whole object item", async () => {
    const whole = (item: { v: number }, ctx: CallContext): number => item.v + ctx.id;
    expect(await fx.getResult(await fx.map(whole, [{ v: 10 }, { v: 20 }]))).toEqual([10, 21]);
    const withArray = (item: { v: number }, k: number): number => item.v * k;
    expect(await fx.getResult(await fx.map(withArray as never, [{ v: 4 }], { extraArgs: [3] }))).toEqual([12]);
  });

  it.each([
    ["an item lacking a parameter: map(add, [{x: 1, z: 2}])", [{ x: 1, z: 2 }], "input[0] has no `y`", "`z`"],
    ["a later item lacking the first parameter", [{ x: 1, y: 2 }, { y: 3 }], "input[1] has no `x`", "(x, y)"],
    ["an item that is not an object", [{ x: 1, y: 2 }, 5], "input[1] has no `x` (it is not an object)", "keyword arguments"],
  ])("%s is TSWREN_ARGUMENT_MISMATCH before any invocation, naming the parameter, leaving nothing", async (_what, items, named, more) => {
    const before = written();
    const registered = engineOf(fx).registeredFutures().length;
    const add = (x: number, y: number): number => x + y;
    const err = await caught(fx.map(add as never, items as never[]));
    expect(err.code).toBe(ErrorCodes.ARGUMENT_MISMATCH);
    expect(err.message).toContain(named);
    expect(err.message).toContain(more);
    expect(err.message).toContain("give the parameter a default");
    expect(engineOf(fx).registeredFutures()).toHaveLength(registered);
    expect(written()).toEqual(before);
    expect(await fx.getResult()).toEqual([]);
  });
});
