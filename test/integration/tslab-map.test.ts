import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTslabHarness, type TslabHarness } from "../fixtures/tslab-harness.js";
import { tempDir } from "../helpers/executor.js";

// The real tslab 1.0.22 compiler and executor run the cells (in this process, as the kernel
// would); the cells import the built `tswren` package and map over local worker processes.

const root = tempDir("tslab-map");
let nb: TslabHarness;

beforeAll(async () => {
  nb = createTslabHarness(process.cwd());
  await nb.run(
    [
      'import * as semver from "semver";',
      'import { functionExecutor } from "tswren";',
      "const factor = 3;",
      "function scale(x: number): number { return x * factor; }",
    ].join("\n"),
  );
});

afterAll(async () => {
  await nb.run("await fx.close();").catch(() => undefined);
  nb.close();
});

describe("map from a tslab notebook", () => {
  it("maps a later cell's function that uses an earlier cell's constant, helper and npm package", async () => {
    await nb.run(
      [
        `const fx = functionExecutor({ dataCleaner: false, config: { localhost_storage: { storage_root: ${JSON.stringify(root)} } } });`,
        'const futures = await fx.map((x: number) => `${semver.valid("1.0." + scale(x))}@${process.pid}`, [1, 2, 3]);',
        "const out = await fx.getResult(futures);",
      ].join("\n"),
    );
    const out = nb.locals["out"] as string[];
    expect(out.map((s) => s.split("@")[0])).toEqual(["1.0.3", "1.0.6", "1.0.9"]);
    expect(out.every((s) => Number(s.split("@")[1]) !== process.pid)).toBe(true);
  });

  it("sees a redefined helper from a newer cell on the next map", async () => {
    await nb.run("function scale(x: number): number { return x * factor * 100; }");
    await nb.run('const out2 = await fx.getResult(await fx.map((x: number) => semver.valid("1.0." + scale(x)), [1]));');
    expect(nb.locals["out2"]).toEqual(["1.0.300"]);
  });

  it("maps a function a factory returned, with the factory's local", async () => {
    await nb.run(["function make() { const hidden = 2; return (x: number) => x * hidden; }", "const made = await fx.getResult(await fx.map(make(), [1, 2]));"].join("\n"));
    expect(nb.locals["made"]).toEqual([2, 4]);
  });
});
