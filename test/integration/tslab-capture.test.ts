import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { captureFunction } from "../../kernel-lib/src/job/capture/index.js";
import { runInChild } from "../fixtures/capture/run-in-child.js";
import { createTslabHarness, type TslabHarness } from "../fixtures/tslab-harness.js";

// Real tslab 1.0.22 compiler and executor, in this process (see the harness): the functions
// captured below are what a notebook kernel really holds, and they run in a child process
// that has no node_modules in reach.

let nb: TslabHarness;

beforeAll(async () => {
  nb = createTslabHarness(process.cwd());
  await nb.run(
    [
      'import * as semver from "semver";',
      'import yaml from "yaml";',
      "const factor = 3;",
      "function scale(x: number) { return x * factor; }",
      "class Animal { constructor(public name: string) {} speak() { return `${this.name} makes a sound`; } }",
    ].join("\n"),
  );
  await nb.run(
    [
      "class Dog extends Animal { speak() { return `${this.name} barks ${scale(1)}x`; } }",
      "function isEven(n: number): boolean { return n === 0 ? true : isOdd(n - 1); }",
      "function isOdd(n: number): boolean { return n === 0 ? false : isEven(n - 1); }",
      "const f = (x: number) => ({",
      '  version: semver.valid("1.2." + scale(x)),',
      "  doc: yaml.stringify({ x }).trim(),",
      '  dog: new Dog("rex").speak(),',
      "  even: isEven(x),",
      "});",
    ].join("\n"),
  );
});

afterAll(() => nb.close());

function local(name: string): Function {
  const value = nb.locals[name];
  if (typeof value !== "function") throw new Error(`cell name ${name} is not a function`);
  return value;
}

describe("capture in a tslab notebook", () => {
  it("sees earlier cells' names through tslab's exports.NAME rewriting", () => {
    const source = local("f").toString();
    expect(source).toContain("exports.scale(x)");
    expect(source).toContain("exports.semver.valid");
    expect(source).toContain("isEven(x)");
  });

  it("runs a cell function with its helpers, classes and npm packages in a process without node_modules", async () => {
    const captured = await captureFunction(local("f"), { what: "map function" });
    expect(captured.modules).toHaveLength(2);
    const report = await runInChild(captured, [1, 2]);
    expect(report.resolvable).toEqual({ semver: false, yaml: false });
    expect(report.results).toEqual([
      { version: "1.2.3", doc: "x: 1", dog: "rex barks 3x", even: false },
      { version: "1.2.6", doc: "x: 2", dog: "rex barks 3x", even: true },
    ]);
  });

  it("gives the same hash when the same cell function is captured twice", async () => {
    const [a, b] = await Promise.all([captureFunction(local("f")), captureFunction(local("f"))]);
    expect(b.hash).toBe(a.hash);
    expect(b.modules.map((m) => m.hash)).toEqual(a.modules.map((m) => m.hash));
  });

  it("resolves default and named imports used in the same cell (yaml_1.default, yaml_2.parse)", async () => {
    await nb.run(
      ['import { parse } from "yaml";', 'import YAML from "yaml";', "const g = (s: string) => parse(s).a + YAML.parse(s).b;"].join("\n"),
    );
    expect(local("g").toString()).toMatch(/yaml_\d\.parse/);
    const report = await runInChild(await captureFunction(local("g")), ["a: 1\nb: 2"]);
    expect(report.results).toEqual([3]);
  });

  it("sees a later change of an earlier cell's variable at capture time", async () => {
    await nb.run("let offset = 10;\nconst h = (x: number) => x + offset;");
    await nb.run("offset = 20;");
    const report = await runInChild(await captureFunction(local("h")), [1]);
    expect(report.results).toEqual([21]);
  });

  it("gives a captured instance of a notebook class its methods back", async () => {
    await nb.run('const rex = new Dog("rex");\nconst speak = (times: number) => rex.speak().repeat(times);');
    const report = await runInChild(await captureFunction(local("speak")), [2]);
    expect(report.results).toEqual(["rex barks 3xrex barks 3x"]);
  });

  it("ships a function a cell's factory returned, with the factory's local", async () => {
    await nb.run("function makeAdder() { const k = 3; return (x: number) => x + k; }\nconst adder = makeAdder();");
    const report = await runInChild(await captureFunction(local("adder"), { what: "map function" }), [4]);
    expect(report.results).toEqual([7]);
  });
});
