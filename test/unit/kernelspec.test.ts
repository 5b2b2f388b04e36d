import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../../kernel-lib/src/cli.js";
import { kernelSpec, userJupyterDataDir } from "../../kernel-lib/src/notebook/kernelspec.js";
import { tempDir } from "../helpers/executor.js";

describe("tswren kernelspec", () => {
  it("starts this node on this package's bin with absolute paths", () => {
    const spec = kernelSpec();
    expect(spec).toEqual({ argv: [process.execPath, spec.argv[1], "kernel", "--config-path", "{connection_file}"], display_name: "TypeScript (tswren)", language: "typescript", interrupt_mode: "message" });
    expect(spec.argv[1]).toMatch(/kernel-lib\/bin\/tswren\.js$/);
    expect(existsSync(spec.argv[1])).toBe(true);
  });

  it("finds the user's Jupyter data dir like Jupyter does", () => {
    expect(userJupyterDataDir({ JUPYTER_DATA_DIR: "/j", XDG_DATA_HOME: "/x" })).toBe("/j");
    expect(userJupyterDataDir({ XDG_DATA_HOME: "/x" })).toBe("/x/jupyter");
    expect(userJupyterDataDir({})).toMatch(/\/\.local\/share\/jupyter$/);
  });

  it("`tswren kernel install` writes kernels/tswren/kernel.json and says where", async () => {
    const dir = tempDir("kernelspec");
    const lines: string[] = [];
    expect(await main(["kernel", "install", "--data-dir", dir], (l) => { lines.push(l); })).toBe(0);
    const file = join(dir, "kernels", "tswren", "kernel.json");
    expect(JSON.parse(readFileSync(file, "utf8"))).toEqual(kernelSpec());
    expect(lines).toEqual([`installed kernelspec tswren ("TypeScript (tswren)") in ${file}`]);
    // Jupyter interrupts with interrupt_request (never SIGINT to the kernel's process group).
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ interrupt_mode: "message" });
    for (const [logo, size] of [["logo-32x32.png", 32], ["logo-64x64.png", 64]] as const) {
      const png = readFileSync(join(dir, "kernels", "tswren", logo));
      expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([size, size]);
    }
    expect(await main(["kernel", "install", "--prefix", dir], () => undefined)).toBe(0);
    expect(existsSync(join(dir, "share", "jupyter", "kernels", "tswren", "kernel.json"))).toBe(true);
  });
});
