import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKernel, type KernelClient } from "../helpers/jupyter-client.js";
import { tempDir } from "../helpers/executor.js";

// Every README code block marked `<!-- notebook snippet -->` runs, as written, as one cell of the
// real tswren kernel (tslab 1.0.22, its TypeScript 5.0), on the localhost backend.

const snippets = [...readFileSync("README.md", "utf8").matchAll(/<!-- notebook snippet[^\n]*-->\n```ts\n([\s\S]*?)\n```/g)].map((m) => m[1] ?? "");
const storageRoot = tempDir("readme-snippets");
let kernel: KernelClient;

beforeAll(async () => {
  kernel = await startKernel({
    env: { TSWREN_CONFIG: JSON.stringify({ tswren: { backend: "localhost", storage: "localhost" }, localhost: { worker_processes: 2 }, localhost_storage: { storage_root: storageRoot } }) },
  });
});

afterAll(async () => {
  await kernel.shutdown();
});

describe("README notebook snippets", () => {
  it("the README marks its notebook snippets, and none uses `await using`", () => {
    expect(snippets.length).toBeGreaterThanOrEqual(2);
    for (const code of snippets) expect(code).not.toMatch(/^\s*await using/m);
  });

  it("each runs as one cell of the tswren kernel without an error, printing what its comments promise", async () => {
    const outputs: string[] = [];
    for (const code of snippets) {
      const run = await kernel.execute(code);
      expect(run.reply.content["status"], `${code}\n---\n${run.stderr}`).toBe("ok");
      outputs.push(run.stdout);
    }
    expect(outputs[0]).toMatch(/^\[ 8, 9, 10, 11 \]\n10\n38\n/);
    const after = await kernel.execute("console.log(fx.closed, doubled.join(','))");
    expect(after.stdout).toBe("true 2,4,6\n");
  });
});
