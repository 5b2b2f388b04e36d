import { describe, expect, it } from "vitest";
import { ErrorCodes, TswrenError } from "../../kernel-lib/src/errors.js";
import { DEFAULT_RESULT_NAME, rewriteCell } from "../../kernel-lib/src/notebook/magic.js";
import { parseMagicLine, splitTokens } from "../../kernel-lib/src/notebook/magic-line.js";

/** The TswrenError `fn` throws. */
function caught(fn: () => unknown): TswrenError {
  try {
    fn();
  } catch (err) {
    if (err instanceof TswrenError) return err;
    throw err;
  }
  throw new Error("expected a TswrenError");
}

function rewrite(cell: string): NonNullable<ReturnType<typeof rewriteCell>> {
  const r = rewriteCell(cell);
  if (r === null) throw new Error(`not a magic cell: ${cell}`);
  return r;
}

describe("%%cloud magic line", () => {
  it("splits arguments at top-level spaces, keeping brackets and strings whole", () => {
    expect(splitTokens(` [1, 2, 3] "a b" ((r: number[]) => r.length) --as x`, 7).map((t) => t.text)).toEqual(["[1, 2, 3]", '"a b"', "((r: number[]) => r.length)", "--as", "x"]);
    expect(splitTokens(" [1, 2]", 7)[0]?.offset).toBe(8);
  });

  it("parses verb, arguments, --as, --fx and call options", () => {
    const m = parseMagicLine(" map_reduce xs sum --as total --fx myFx --timeout 30 --retries 2", 7);
    expect(m.verb).toBe("map_reduce");
    expect(m.args.map((a) => a.text)).toEqual(["xs", "sum"]);
    expect(m.name).toBe("total");
    expect(m.fx?.text).toBe("myFx");
    expect(m.options.map((o) => [o.key, o.value.text])).toEqual([["timeout", "30"], ["retries", "2"]]);
    expect(parseMagicLine(" map xs", 0).name).toBe(DEFAULT_RESULT_NAME);
  });

  it.each([
    [" reduce xs", /unknown verb "reduce"/],
    [" map", /map takes 1 argument/],
    [" map (x) => x", /got 3: put an expression with spaces in parentheses/],
    [" map_reduce xs", /map_reduce takes 2 arguments/],
    [" map [1, 2", /missing "\]"/],
    [" map xs --as", /option --as needs a value/],
    [" map xs --as __x", /--as needs a variable name/],
    [" map xs --as 1x", /--as needs a variable name/],
    [" map 'abc", /unterminated string/],
    ["", /the verb is missing/],
  ])("rejects %j with a message naming the problem and the syntax", (line, message) => {
    const err = caught(() => parseMagicLine(line, 0));
    expect(err).toMatchObject({ code: ErrorCodes.BAD_INPUT });
    expect(err.message).toMatch(message);
    expect(err.message).toMatch(/%%cloud map <iterdata>/);
  });
});

describe("rewriting a magic cell", () => {
  it("leaves cells without a magic alone", () => {
    expect(rewriteCell("const x = 1;")).toBeNull();
    expect(rewriteCell("/** a doc */\nfunction f() {}")).toBeNull();
  });

  it("keeps every body line on its line number and ends with the result variable", () => {
    const cell = "%%cloud map [1, 2, 3] --as doubled\n(x: number) => {\n  return x * 2;\n};";
    const r = rewrite(cell);
    const lines = r.code.split("\n");
    expect(lines[0]).toMatch(/^const doubled = await Promise\.resolve\(.*\.tswrenCells\.map\(\[1, 2, 3\], \{ name: "doubled" \}, undefined,$/);
    expect(lines.slice(1, 4)).toEqual(["(x: number) => {", "  return x * 2;", "}"]);
    expect(lines[4]).toBe(")); doubled");
  });

  it("names the job after --as (progress bar and chart titles), unless --name is given", () => {
    expect(rewrite("%%cloud map [1] --as ys --timeout 5\n(x: number) => x").code.split("\n")[0]).toMatch(/\(\[1\], \{ name: "ys", timeout: 5 \}, undefined,$/);
    expect(rewrite('%%cloud map [1] --as ys --name "squares"\n(x: number) => x').code.split("\n")[0]).toMatch(/\(\[1\], \{ name: "squares" \}, undefined,$/);
  });

  it("passes options and the executor expression into the call", () => {
    const r = rewrite("%%cloud call_async 5 --fx myFx --timeout 30\nfunction twice(x: number) { return 2 * x }");
    expect(r.code.split("\n")[0]).toMatch(/\.callAsync\(5, \{ timeout: 30 \}, myFx,$/);
    expect(r.code).toMatch(/^const cloudResult = /);
  });

  it("accepts the TypeScript-valid JSDoc form, also over several lines", () => {
    const r = rewrite("/**\n * @cloud map_reduce [1, 2]\n *   sum --as total\n */\n(x: number) => x + 1");
    const lines = r.code.split("\n");
    expect(lines[0]).toMatch(/\.mapReduce\(\[1, 2\], sum, \{ name: "total" \}, undefined,$/);
    expect(lines.slice(1, 4)).toEqual(["", "", ""]);
    expect(lines[4]).toBe("(x: number) => x + 1");
    expect(lines[5]).toBe(")); total");
  });

  it("maps cursor positions in the body and in copied arguments both ways", () => {
    const cell = "%%cloud map items --as ys\n(x: number) => x.toFi";
    const r = rewrite(cell);
    const cursor = cell.length;
    expect(r.code.slice(0, r.toRewritten(cursor)).endsWith("x.toFi")).toBe(true);
    expect(r.toOriginal(r.toRewritten(cursor))).toBe(cursor);
    const inArg = cell.indexOf("items") + 3;
    expect(r.code.slice(r.toRewritten(inArg) - 3, r.toRewritten(inArg) + 2)).toBe("items");
  });

  it("rejects an unknown cell magic and a cell without a function", () => {
    expect(caught(() => rewriteCell("%%time\n1")).message).toMatch(/unknown cell magic "%%time".*only %%cloud/);
    expect(caught(() => rewriteCell("%%cloud map [1]\n   \n")).message).toMatch(/the cell has no function/);
  });
});
