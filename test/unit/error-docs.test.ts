/** docs/errors.md has one row per error code (meaning, what to do), and no row for a code that does not exist. */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ErrorCodes } from "../../kernel-lib/src/errors.js";

const DOC = path.resolve(import.meta.dirname, "../../docs/errors.md");

/** Rows of the table: code → [meaning, what to do]. */
function rows(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of readFileSync(DOC, "utf8").split("\n")) {
    const m = /^\| `(TSWREN_[A-Z_]+)` \|(.*)\|\s*$/.exec(line);
    if (m?.[1] !== undefined && m[2] !== undefined) out.set(m[1], m[2].split("|").map((c) => c.trim()));
  }
  return out;
}

describe("docs/errors.md", () => {
  it("has a row with a meaning and a remedy for every error code", () => {
    const table = rows();
    const missing = Object.values(ErrorCodes).filter((code) => (table.get(code) ?? []).filter((cell) => cell !== "").length < 2);
    expect(missing).toEqual([]);
  });

  it("lists no code that errors.ts does not declare", () => {
    const known = new Set<string>(Object.values(ErrorCodes));
    expect([...rows().keys()].filter((code) => !known.has(code))).toEqual([]);
  });
});
