import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKernel, type ExecuteResult, type KernelClient } from "../helpers/jupyter-client.js";
import { tempDir } from "../helpers/executor.js";

// The real `tswren` kernel (tslab 1.0.22 underneath) over ZeroMQ; jobs run on the localhost
// backend's worker processes. A remote failure must read as one block pointing at the cell lines
// the user wrote, never at tswren's generated bundle or its worker internals.

const storageRoot = tempDir("notebook-errors");
let kernel: KernelClient;

beforeAll(async () => {
  kernel = await startKernel({
    env: {
      TSWREN_CONFIG: JSON.stringify({ tswren: { backend: "localhost", storage: "localhost" }, localhost: { worker_processes: 2 }, localhost_storage: { storage_root: storageRoot } }),
    },
  });
});

afterAll(async () => {
  await kernel.shutdown();
});

/** The execution count Jupyter shows as the cell's prompt (`[4]`). */
function count(run: ExecuteResult): number {
  return run.reply.content["execution_count"] as number;
}

/** Run a cell; tslab answers `abort` within 200 ms of an error, so retry at a 50 ms pace. */
async function execute(code: string): Promise<ExecuteResult> {
  for (let attempt = 0; ; attempt++) {
    const run = await kernel.execute(code);
    if (run.reply.content["status"] !== "abort" || attempt === 40) return run;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** What no readable error block may show: tswren's bundle, its workers, a second copy of the stack. */
function expectNoInternals(text: string): void {
  expect(text).not.toContain("tswren-function");
  expect(text).not.toContain("local-worker");
  expect(text).not.toContain("remote stack");
  expect(text).not.toContain("node:internal");
  expect(text).not.toContain("remoteStack:");
}

describe("remote errors in the tswren kernel", () => {
  let helperCell = 0;
  let mapCell = 0;

  it("shows a failed map call as one block: the call, the input's index and preview, the message and the user's frames at cell lines", async () => {
    const setup = await execute('import { functionExecutor } from "tswren";\nconst fx = functionExecutor();');
    expect(setup.reply.content["status"], setup.stderr).toBe("ok");
    const helper = await execute("interface Row { id: number; tag: string }\nfunction check(row: Row): number {\n  if (row.id === 3) throw new RangeError(`bad row ${row.id}`);\n  return row.id;\n}");
    expect(helper.reply.content["status"], helper.stderr).toBe("ok");
    helperCell = count(helper);
    const run = await execute([
      "const rows: Row[] = [1, 2, 3, 4].map((id) => ({ id, tag: `t${id}` }));",
      "const futures = await fx.map((row: Row) => {",
      "  const checked: number = check(row);",
      "  return checked * 2;",
      "}, rows, { name: \"double\" });",
    ].join("\n"));
    expect(run.reply.content["status"], run.stderr).toBe("ok");
    mapCell = count(run);
    const failed = await execute("await fx.getResult(futures);");
    expect(failed.reply.content["status"]).toBe("error");
    const text = failed.stderr;
    expect(text).toMatch(/^TSWREN_REMOTE_FUNCTION: double failed on input \[2\] \(call \S+\/M000\/00002\)$/m);
    expect(text).toContain("  input [2]: { id: 3, tag: 't3' }");
    expect(text).toContain("  RangeError: bad row 3");
    expect(text).toContain(`at check (cell [${helperCell}], line 3)`);
    expect(text).toMatch(new RegExp(`\\n {6}at cell \\[${mapCell}\\], line 3\\n`));
    expect(text.match(/RangeError: bad row 3/g)).toHaveLength(1);
    expectNoInternals(text);
  });

  it("shows a future with its state and the same block, and keeps the full remote stack on the error", async () => {
    const run = await execute("futures[2]");
    expect(run.reply.content["status"], run.stderr).toBe("ok");
    expect(run.stdout).toMatch(/^ResponseFuture \S+\/M000\/00002 \(error\)\n {2}TSWREN_REMOTE_FUNCTION: double failed on input \[2\]/);
    expect(run.stdout).toContain(`at check (cell [${helperCell}], line 3)`);
    expectNoInternals(run.stdout);
    const stack = await execute("console.log((futures[2].error as any).remoteStack.includes('tswren-function'))");
    expect(stack.stdout).toBe("true\n");
  });

  it("points a %%cloud body's error at the line of the cell the user wrote", async () => {
    const run = await execute("%%cloud map [1, 5, 2] --as small\n(x: number) => {\n  const limit: number = 3;\n  if (x > limit) throw new TypeError(`too big: ${x}`);\n  return x;\n}");
    expect(run.reply.content["status"]).toBe("error");
    expect(run.stderr).toMatch(/^TSWREN_REMOTE_FUNCTION: small failed on input \[1\] \(call \S+\/M\d{3}\/00001\)$/m);
    expect(run.stderr).toContain("  input [1]: 5");
    expect(run.stderr).toContain("  TypeError: too big: 5");
    expect(run.stderr).toContain(`at cell [${count(run)}], line 4`);
    expectNoInternals(run.stderr);
  });

  it("shows a client-side coded error as its code, message and no tswren internals", async () => {
    const run = await execute("await fx.map((x: number) => x, [1], { chunkSize: -1 } as any);");
    expect(run.reply.content["status"]).toBe("error");
    expect(run.stderr).toMatch(/^TSWREN_\w+: /m);
    expect(run.stderr).not.toContain("kernel-lib");
    expect(run.stderr).not.toContain("node:internal");
  });
});
