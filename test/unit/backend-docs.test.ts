/**
 * Every registered compute backend has its page docs/backends/<name>.md, and the page's option
 * table lists exactly the keys of the backend's config section, in schema order, with the
 * schema's defaults, units, required and secret marks.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { computeBackendNames } from "../../kernel-lib/src/compute/registry.js";
import { CONFIG_SCHEMA } from "../../kernel-lib/src/config/schema.js";
import type { KeySpec, SectionSpec } from "../../kernel-lib/src/config/schema.js";
import { computeSectionName } from "../../kernel-lib/src/config/sections.js";

const DOCS = path.resolve(import.meta.dirname, "../../docs/backends");

/** Option tables of a page: each a list of rows `[key, type, default, unit, required, secret, meaning]`. */
function optionTables(text: string): string[][][] {
  const tables: string[][][] = [];
  let current: string[][] | null = null;
  for (const line of text.split("\n")) {
    if (/^\| Key \| Type \| Default \| Unit \| Required \| Secret \| Meaning \|/.test(line)) {
      current = [];
      tables.push(current);
    } else if (current !== null && line.startsWith("| `")) {
      current.push(line.slice(1, -1).split(" | ").map((c) => c.trim()));
    } else if (current !== null && !line.startsWith("|")) {
      current = null;
    }
  }
  return tables;
}

/** The row the schema says a key must have (key, default, unit, required, secret). */
function expectedRow(section: SectionSpec, key: string, spec: KeySpec): string[] {
  const value = spec.default;
  const shown = spec.defaultText ?? (value === undefined ? "" : typeof value === "function" ? "" : `\`${Array.isArray(value) ? JSON.stringify(value) : String(value)}\``);
  const group = section.requireOneOf?.find((g) => g.includes(key));
  const required = spec.required === true ? "yes" : group !== undefined ? `one of ${group.map((k) => `\`${k}\``).join(", ")}` : "";
  return [`\`${key}\``, shown, spec.unit ?? "", required, spec.secret === true ? "yes" : ""];
}

describe.each(computeBackendNames())("docs/backends/%s.md", (name) => {
  const file = path.join(DOCS, `${name}.md`);

  it("exists", () => {
    expect(existsSync(file)).toBe(true);
  });

  it("has an option table matching its config section", () => {
    const section: SectionSpec = CONFIG_SCHEMA[computeSectionName(name)];
    const expected = Object.entries(section.keys).map(([key, spec]) => expectedRow(section, key, spec));
    const tables = optionTables(readFileSync(file, "utf8")).map((rows) => rows.map((r) => [r[0], r[2], r[3], r[4], r[5]]));
    const sameKeys = tables.find((rows) => rows.map((r) => r[0]).join() === expected.map((r) => r[0]).join());
    expect(sameKeys, `a table listing ${expected.map((r) => r[0]).join(", ")}`).toBeDefined();
    expect(sameKeys).toEqual(expected);
  });
});

it("docs/backends/README.md names the page of every compute backend", () => {
  const readme = readFileSync(path.join(DOCS, "README.md"), "utf8");
  expect(computeBackendNames().filter((name) => !readme.includes(`${name}.md`))).toEqual([]);
});
