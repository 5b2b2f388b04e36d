import { createRequire } from "node:module";
import * as vm from "node:vm";
import * as esbuild from "esbuild";
import { describe, expect, it } from "vitest";
import { ErrorCodes, TswrenError } from "../../kernel-lib/src/errors.js";
import { captureFunction, type CapturedFunction } from "../../kernel-lib/src/job/capture/index.js";
import { freeNamesOfScript, parseFunctionSource } from "../../kernel-lib/src/job/capture/free-names.js";
import {
  bundleModuleHashes,
  decodeFunctionBundle,
  loadFunctionBundle,
} from "../../kernel-lib/src/job/function-bundle.js";
import { runInChild } from "../fixtures/capture/run-in-child.js";

const requireHere = createRequire(import.meta.url);

// Free names of captured test functions that exist only where the function runs (from its
// captures) or nowhere at all (to test the error); declared for the type checker only.
declare const other: number;
declare const nowhere: number;
declare const f: (n: number) => number;

/** Load a captured function in this process, with its modules served from the capture. */
function load(captured: CapturedFunction): (...args: unknown[]) => unknown {
  const sources = new Map(captured.modules.map((m) => [m.hash, m.source]));
  return loadFunctionBundle(captured.bundleBytes, (hash) => sources.get(hash) ?? "");
}

async function roundTrip(fn: Function, capture?: Record<string, unknown>): Promise<(...args: unknown[]) => unknown> {
  return load(await captureFunction(fn, capture === undefined ? {} : { capture }));
}

async function captureError(fn: Function, capture?: Record<string, unknown>): Promise<TswrenError> {
  const err: unknown = await captureFunction(fn, { capture: capture ?? {}, what: "map function" }).then(
    () => null,
    (e: unknown) => e,
  );
  if (!(err instanceof TswrenError)) throw new Error(`expected a TswrenError, got ${String(err)}`);
  return err;
}

function free(source: string): string[] {
  return parseFunctionSource(source).names;
}

describe("free-name analysis", () => {
  it("lists names used but not declared, in order of first use", () => {
    expect(free("(x) => y + Math.max(x, z) + y")).toEqual(["y", "Math", "z"]);
  });

  it("respects block scoping and shadowing", () => {
    expect(free("(x) => { const y = 1; { let z = y + w; const x = 2; } return x + y + z; }")).toEqual(["w", "z"]);
  });

  it("binds destructured and rest parameters", () => {
    expect(free("({ a, b: [c, ...d], e = f }, ...rest) => a + c + d + e + rest + g")).toEqual(["f", "g"]);
  });

  it("treats default parameter values as references, also to earlier parameters", () => {
    expect(free("(x = k, y = x) => y")).toEqual(["k"]);
  });

  it("binds catch parameters only inside the catch block", () => {
    expect(free("() => { try { run(); } catch ({ message }) { return message + suffix; } return message; }")).toEqual([
      "run",
      "suffix",
      "message",
    ]);
  });

  it("does not treat labels, property keys or member names as variables", () => {
    expect(free("() => { outer: for (;;) { break outer; } return { a: 1, [key]: obj.prop.deep, short, m() { return inner; } }; }")).toEqual([
      "key",
      "obj",
      "short",
      "inner",
    ]);
  });

  it("follows optional chaining and optional calls", () => {
    expect(free("() => a?.b?.[c]?.(d).e")).toEqual(["a", "c", "d"]);
  });

  it("binds for-of and for-in declarations to the loop", () => {
    expect(free("(xs) => { let s = 0; for (const [k, v] of xs) s += k + v; for (const p in obj) s += p; return s + k; }")).toEqual([
      "obj",
      "k",
    ]);
  });

  it("hoists var and function declarations, and binds arguments in non-arrow functions", () => {
    expect(free("function () { helper(); function helper() { return v; } var v = arguments.length; return v + u; }")).toEqual(["u"]);
    expect(free("() => arguments[0]")).toEqual(["arguments"]);
  });

  it("sees references in class heritage, fields, static blocks and methods but not the class's own name", () => {
    const parsed = parseFunctionSource(
      "class K extends Base { static s = S; f = this.g + F; #p = P; static { let q = Q; } m() { return K + M + this.#p; } }",
    );
    expect(parsed.isClass).toBe(true);
    expect(parsed.names).toEqual(["Base", "S", "F", "P", "Q", "M"]);
    expect(parsed.heritage.names).toEqual(["Base"]);
  });

  it("reads tslab's exports.NAME as earlier-cell names and collects require literals", () => {
    const parsed = parseFunctionSource('(x) => exports.factor * x + exports["scale"](x) + require("yaml").parse(s)');
    expect(parsed.names).toEqual(["require", "s"]);
    expect(parsed.exportsProps).toEqual(["factor", "scale"]);
    expect(parsed.requires).toEqual(["yaml"]);
  });

  it("treats assignment targets as references", () => {
    expect(freeNamesOfScript("counter += 1; let local; local = 2;").names).toEqual(["counter"]);
  });

  it("parses object-literal methods, including async and computed names", () => {
    expect(parseFunctionSource("async fetchAll(x) { return load(x); }")).toMatchObject({ form: "method", names: ["load"] });
    expect(parseFunctionSource("[Symbol.iterator]() { return it; }").names).toEqual(["Symbol", "it"]);
  });
});

describe("capture and load round trip", () => {
  it("runs an arrow that only uses built-in globals", async () => {
    const fn = await roundTrip((x: number) => Math.max(x, 0) + JSON.stringify([x]).length + new URL("http://a/b").pathname.length);
    expect(fn(3)).toBe(3 + 3 + 2);
  });

  it("ships explicit captures: values with full fidelity, helpers, classes with extends, mutual recursion", async () => {
    const table = new Map([["a", 1n << 70n]]);
    const when = new Date("2024-01-02T03:04:05Z");
    const weights = new Float64Array([0.5, 1.5]);
    const twice = (v: number): number => v * 2;
    class Shape {
      area(): number {
        return 0;
      }
    }
    class Square extends Shape {
      constructor(readonly side: number) {
        super();
      }
      override area(): number {
        return twice(this.side * this.side) / 2;
      }
    }
    const isEven = (n: number): boolean => (n === 0 ? true : isOdd(n - 1));
    const isOdd = (n: number): boolean => (n === 0 ? false : isEven(n - 1));
    const fn = await roundTrip(
      (x: number) => ({
        big: table.get("a"),
        year: when.getUTCFullYear(),
        weighted: weights[0] * x + weights[1],
        area: new Square(x).area(),
        isShape: new Square(1) instanceof Shape,
        even: isEven(x),
      }),
      { table, when, weights, Square, Shape, twice, isEven, isOdd },
    );
    expect(fn(4)).toEqual({ big: 1n << 70n, year: 2024, weighted: 3.5, area: 16, isShape: true, even: true });
  });

  it("orders class definitions so that extends bases exist first", async () => {
    class A {
      tag(): string {
        return "A";
      }
    }
    class B extends A {
      override tag(): string {
        return `B<${super.tag()}`;
      }
    }
    class C extends B {
      override tag(): string {
        return `C<${super.tag()}`;
      }
    }
    const fn = await roundTrip(() => new C().tag(), { C, B, A });
    expect(fn()).toBe("C<B<A");
  });

  it("ships async functions, generators and object-literal methods", async () => {
    const lib: { twice: (x: number) => Promise<number>; upTo: (n: number) => Generator<number> } = {
      async twice(x) {
        return x * 2;
      },
      *upTo(n) {
        for (let i = 0; i < n; i++) yield i;
      },
    };
    const twice = lib.twice;
    const upTo = lib.upTo;
    const fn = await roundTrip(async (n: number) => [...upTo(n)].length + (await twice(n)), { twice, upTo });
    await expect(fn(3)).resolves.toBe(9);
  });

  it("refers to built-in functions and objects by their global name instead of shipping them", async () => {
    expect((await roundTrip(Math.sqrt))(9)).toBe(3);
    const log2 = Math.log2;
    const json = JSON;
    expect((await roundTrip((x: number) => json.stringify(log2(x)), { log2, json }))(8)).toBe("3");
  });

  it("gives a captured instance its class back, capturing the class with it", async () => {
    class Counter {
      constructor(public count: number) {}
      doubled(): number {
        return this.count * 2;
      }
    }
    const counter = new Counter(5);
    const fn = await roundTrip(() => [counter.doubled(), counter.constructor.name], { counter });
    expect(fn()).toEqual([10, "Counter"]);
  });

  it("ships an instance of a class it cannot capture as plain data", async () => {
    class Scaled {
      constructor(public value: number) {}
      scaled(): number {
        return this.value * nowhere;
      }
    }
    const item = new Scaled(4);
    const fn = await roundTrip(() => [item.value, typeof (item as Partial<Scaled>).scaled], { item });
    expect(fn()).toEqual([4, "undefined"]);
  });

  it("lets a function call itself by the name it was defined with", async () => {
    const fact = (n: number): number => (n <= 1 ? 1 : n * fact(n - 1));
    expect((await roundTrip(fact))(5)).toBe(120);
    expect((await roundTrip((n: number) => f(n) + 1, { f: fact }))(3)).toBe(7);
  });

  it("gives the same hash for the same function and captures, and another for other captures", async () => {
    const make = (k: number): Promise<CapturedFunction> => captureFunction((x: number) => x + k, { capture: { k } });
    const [a, b, c] = await Promise.all([make(1), make(1), make(2)]);
    expect(a.hash).toMatch(/^[0-9a-f]{32}$/);
    expect(b.hash).toBe(a.hash);
    expect(c.hash).not.toBe(a.hash);
  });

  it("writes a versioned bundle holding the generated source, values and module refs", async () => {
    const k = 5;
    const captured = await captureFunction((x: number) => x + k, { capture: { k } });
    const bundle = decodeFunctionBundle(captured.bundleBytes);
    expect(bundle.version).toBe(1);
    expect(bundle.values).toHaveLength(1);
    expect(bundle.modules).toEqual([]);
    expect(bundle.source).toContain("const k = ");
    expect(() => decodeFunctionBundle(Buffer.from("not a bundle"))).toThrow(TswrenError);
  });
});

describe("capture errors", () => {
  it("ships a function returned by a factory with the factory's locals it uses", async () => {
    const makeFn = (k: number): ((x: number) => number) => {
      const offset = { by: 10 };
      return (x: number) => x + k + offset.by;
    };
    expect((await roundTrip(makeFn(3)))(1)).toBe(14);
  });

  it("ships bound and partially applied functions with their bound this and arguments", async () => {
    function add(this: { base: number } | null, a: number, b: number): number {
      return (this?.base ?? 0) + a + b;
    }
    expect((await roundTrip(add.bind(null, 5)))(2)).toBe(7);
    expect((await roundTrip(add.bind({ base: 100 }, 5)))(2)).toBe(107);
    expect((await roundTrip(add.bind(null, 1).bind(null, 2)))()).toBe(3);
  });

  it("names a name that is nowhere (not a closure local either) and the fix, before bundling anything", async () => {
    const err = await captureError((x: number) => x + nowhere);
    expect(err.code).toBe(ErrorCodes.UNRESOLVED_NAME);
    expect(err.message).toContain('the map function uses "nowhere", which tswren cannot see');
    expect(err.message).toContain("capture: { nowhere }");
  });

  it("names every unresolved name, including those of captured helpers", async () => {
    const helper = (v: number): number => v + nowhere;
    const err = await captureError((x: number) => helper(x) + other, { helper });
    expect(err.code).toBe(ErrorCodes.UNRESOLVED_NAME);
    expect(err.message).toContain('"other"');
    expect(err.message).toContain('"nowhere" (in captured variable "helper")');
    expect(err.message).toContain("capture: { other, nowhere }");
  });

  it("names the path of a captured value that cannot be serialized", async () => {
    const cfg = { retries: 2, hooks: { onDone: Symbol("done") } };
    const err = await captureError(() => cfg.retries, { cfg });
    expect(err.code).toBe(ErrorCodes.NOT_SERIALIZABLE);
    expect(err.message).toContain('captured variable "cfg".hooks.onDone');
  });

  it("refuses native functions that are not globals with a clear message", async () => {
    const native = await captureError(Array.prototype.map);
    expect(native.code).toBe(ErrorCodes.CAPTURE_FAILED);
    expect(native.message).toContain("the map function is a built-in (native) function (map)");
  });
});

describe("npm packages", () => {
  it("bundles a captured package and a require()d one, usable where neither is installed", async () => {
    const semver = requireHere("semver") as { valid: (v: string) => string | null };
    const fn = (x: number): string => `${semver.valid(`1.2.${x}`)}|${require("yaml").stringify({ x }).trim()}`;
    const captured = await captureFunction(fn, { capture: { semver } });
    expect(captured.modules).toHaveLength(2);
    expect(bundleModuleHashes(captured.bundleBytes).sort()).toEqual(captured.modules.map((m) => m.hash).sort());
    const report = await runInChild(captured, [3, 4]);
    expect(report.resolvable).toEqual({ semver: false, yaml: false });
    expect(report.results).toEqual(["1.2.3|x: 3", "1.2.4|x: 4"]);
  });

  it("resolves the import names and __name helper of code compiled by esbuild as tsx does", async () => {
    const compiled = await esbuild.transform(
      'import semver from "semver";\nimport { basename } from "node:path";\n' +
        "export const f = (x) => { const tag = () => basename(semver.valid(x)); return tag.name + ':' + tag(); };",
      { format: "cjs", keepNames: true, platform: "node", target: "node20" },
    );
    expect(compiled.code).toContain("import_semver");
    expect(compiled.code).toContain("__name(");
    const module = { exports: {} as { f?: Function } };
    const wrapper = vm.runInThisContext(`(function (require, module, exports) {${compiled.code}\n})`) as Function;
    wrapper(requireHere, module, module.exports);
    const f = module.exports.f;
    if (f === undefined) throw new Error("the compiled module did not export f");
    const report = await runInChild(await captureFunction(f), ["1.2.3"]);
    expect(report.results).toEqual(["tag:1.2.3"]);
  });

  it("content-hashes module bundles so the same package gives the same hash", async () => {
    const semver = requireHere("semver") as { valid: (v: string) => string | null };
    const [a, b] = await Promise.all([
      captureFunction((v: string) => semver.valid(v), { capture: { semver } }),
      captureFunction((v: string) => semver.valid(v) !== null, { capture: { semver } }),
    ]);
    expect(a.modules.map((m) => m.hash)).toEqual(b.modules.map((m) => m.hash));
    expect(a.hash).not.toBe(b.hash);
  });

  it("recognises a package loaded after an earlier capture (the module index is rebuilt when modules load)", async () => {
    await captureFunction((x: number) => x + 1);
    const ms = requireHere("ms") as (v: string) => number;
    const captured = await captureFunction((v: string) => ms(v), { capture: { ms } });
    expect(decodeFunctionBundle(captured.bundleBytes).modules.map((m) => m.specifier)).toEqual(["ms"]);
    expect(load(captured)("2s")).toBe(2000);
  });

  it("checks a built-in global against its live value, not the index built at the first capture", async () => {
    const saved = Math.hypot;
    expect(load(await captureFunction(saved))(3, 4)).toBe(5);
    const mine = (a: number, b: number): number => a + b;
    Math.hypot = mine;
    try {
      expect(decodeFunctionBundle((await captureFunction(mine)).bundleBytes).source).toContain("a + b");
      expect((await captureError(saved)).code).toBe(ErrorCodes.CAPTURE_FAILED);
    } finally {
      Math.hypot = saved;
    }
  });

  it("ships a package's exported function directly, and Node built-in modules by name", async () => {
    const semver = requireHere("semver") as { valid: (v: string) => string | null };
    const path = requireHere("node:path") as typeof import("node:path");
    const valid = await captureFunction(semver.valid);
    expect(load(valid)("1.2.3")).toBe("1.2.3");
    const joined = await captureFunction((x: string) => path.join("a", x), { capture: { path } });
    expect(joined.modules).toEqual([]);
    expect(decodeFunctionBundle(joined.bundleBytes).modules).toEqual([{ specifier: "path" }]);
    expect(load(joined)("b")).toBe("a/b");
  });
});
