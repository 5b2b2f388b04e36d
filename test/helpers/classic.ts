/** The classic PyWren examples, checked the same way on every backend and storage. */
import { expect } from "vitest";
import type { FunctionExecutor } from "../../kernel-lib/src/index.js";

/** map(x => x + 7, [1, 2, 3, 4]) gives [8, 9, 10, 11]; callAsync with 3 gives 10; mapReduce with a sum gives 38. */
export async function expectClassicExamples(fx: FunctionExecutor): Promise<void> {
  await fx.map((x: number) => x + 7, [1, 2, 3, 4]);
  expect(await fx.getResult()).toEqual([8, 9, 10, 11]);
  await fx.callAsync((x: number) => x + 7, 3);
  expect(await fx.getResult()).toBe(10);
  await fx.mapReduce((x: number) => x + 7, [1, 2, 3, 4], (rs: number[]) => rs.reduce((a, b) => a + b, 0));
  expect(await fx.getResult()).toBe(38);
}
