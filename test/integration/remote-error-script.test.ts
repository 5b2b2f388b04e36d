import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { tempDir } from "../helpers/executor.js";

// A plain Node script (a real process, localhost workers): `console.error(err)` of a remote
// failure is one block whose frames name the script's own file and lines.

const lib = pathToFileURL(path.resolve("kernel-lib/dist/index.js")).href;

describe("remote errors in scripts", () => {
  it("maps the user's frames to the script file's lines and shows the input", () => {
    const dir = tempDir("remote-error-script");
    const script = path.join(dir, "job.mjs");
    writeFileSync(script, [
      `import { functionExecutor } from ${JSON.stringify(lib)};`,
      "",
      "function check(row) {",
      "  if (row.id === 2) {",
      "    throw new RangeError(`bad row ${row.id}`);",
      "  }",
      "  return row.id;",
      "}",
      "",
      `const fx = functionExecutor({ backend: "localhost", config: { localhost_storage: { storage_root: ${JSON.stringify(path.join(dir, "store"))} } } });`,
      "const futures = await fx.map(function double(row) {",
      "  return check(row) * 2;",
      "}, [{ id: 1 }, { id: 2 }]);",
      "try { await fx.getResult(futures); } catch (err) { console.error(err); }",
      "await fx.close();",
    ].join("\n"));
    const r = spawnSync(process.execPath, [script], { cwd: dir, encoding: "utf8", timeout: 120_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^TSWREN_REMOTE_FUNCTION: double failed on input \[1\] \(call \S+\/M000\/00001\)$/m);
    expect(r.stderr).toContain("  input [1]: { id: 2 }");
    expect(r.stderr).toContain("  RangeError: bad row 2");
    expect(r.stderr).toContain("      at check (job.mjs:5:11)");
    expect(r.stderr).toContain("      at double (job.mjs:12:10)");
    expect(r.stderr).not.toContain("tswren-function");
    expect(r.stderr).not.toContain("local-worker");
  });
});
