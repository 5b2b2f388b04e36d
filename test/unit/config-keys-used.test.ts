import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_SCHEMA, SECTION_NAMES, loadConfig } from "../../kernel-lib/src/config/index.js";
import { ErrorCodes, TswrenError } from "../../kernel-lib/src/errors.js";

// No inert config key: every key the schema documents is read by the code that runs jobs (the
// client outside the config loader, or the runtime), and a key the schema does not know is
// refused. (Behavioural effects of keys are covered per backend in their own suites; this test
// fails as soon as a documented key is read by nothing.)

const repo = path.join(import.meta.dirname, "../..");

/** Source of the client (outside the config loader itself) and of the runtime. */
function codeOutsideConfig(): string {
  const out: string[] = [];
  for (const dir of ["kernel-lib/src", "runtime/src"]) {
    for (const file of readdirSync(path.join(repo, dir), { recursive: true, encoding: "utf8" })) {
      if (!file.endsWith(".ts") || file.startsWith(`config${path.sep}`)) continue;
      out.push(readFileSync(path.join(repo, dir, file), "utf8"));
    }
  }
  return out.join("\n");
}

const code = codeOutsideConfig();
const keys = SECTION_NAMES.flatMap((section) => Object.keys(CONFIG_SCHEMA[section].keys).map((key) => [section, key] as const));

describe("every config key has an effect or is rejected", () => {
  it.each(keys)("%s.%s is read by the code that runs jobs", (_section, key) => {
    const read = new RegExp(`(\\.${key}\\b|\\["${key}"\\])`);
    expect(read.test(code), `no code outside kernel-lib/src/config reads \`${key}\`: an inert key`).toBe(true);
  });

  it.each(SECTION_NAMES.map((s) => [s]))("a key the schema does not know in %s is refused, naming it", (section) => {
    const known = Object.keys(CONFIG_SCHEMA[section].keys)[0] ?? "";
    let err: unknown;
    try {
      loadConfig({ env: {}, config: { [section]: { [`${known}x`]: 1 } } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TswrenError);
    expect((err as TswrenError).code).toBe(ErrorCodes.CONFIG_UNKNOWN_KEY);
    expect((err as TswrenError).message).toContain(`${known}x`);
  });
});
