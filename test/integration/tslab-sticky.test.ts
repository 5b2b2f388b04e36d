import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKernel, type ExecuteResult, type KernelClient } from "../helpers/jupyter-client.js";
import { tempDir } from "../helpers/executor.js";

// "It failed, I fixed it, I run it again" in a notebook: the real `tswren` kernel (tslab 1.0.22
// underneath) in its own process, driven over ZeroMQ like Jupyter drives it; jobs run on the
// localhost backend's worker processes. A failure is reported once, in the cell that caused it.

const storageRoot = tempDir("tslab-sticky");
const plotDir = tempDir("tslab-sticky-plots");
let kernel: KernelClient;

beforeAll(async () => {
  kernel = await startKernel({
    env: {
      TSWREN_CONFIG: JSON.stringify({ tswren: { backend: "localhost", storage: "localhost", data_cleaner: false }, localhost: { worker_processes: 2 }, localhost_storage: { storage_root: storageRoot } }),
    },
  });
  const setup = await kernel.execute('import { functionExecutor, objects } from "tswren";\nconst fx = functionExecutor();');
  expect(setup.reply.content["status"], setup.stderr).toBe("ok");
});

afterAll(async () => {
  await kernel.execute("await fx.close();");
  await kernel.shutdown();
});

function status(run: ExecuteResult): unknown {
  return run.reply.content["status"];
}

/**
 * Run a cell right after a failed one. tslab answers `abort` to execute requests that arrive
 * within 200 ms of an error (its stop-on-error window, a time rule): retry at a 50 ms pace.
 */
async function executeAfterError(code: string): Promise<ExecuteResult> {
  for (let attempt = 0; ; attempt++) {
    const run = await kernel.execute(code);
    if (status(run) !== "abort" || attempt === 40) return run;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The cell that runs the fixed job and prints what the no-argument forms see. */
const FIXED = [
  "const waited = await fx.wait();",
  "await fx.map((x: number) => Math.max(x, 1) * 10, [0, 2, 3]);",
  "console.log(JSON.stringify(waited), JSON.stringify(await fx.getResult()), JSON.stringify(await fx.getResult()));",
].join("\n");

describe("no sticky errors in a notebook kernel", () => {
  it("a call that threw fails its cell once; the fixed cell's getResult() gives only the new results", async () => {
    const failed = await kernel.execute([
      "await fx.map((x: number) => { if (x === 2) throw new Error(`boom at ${x}`); return x; }, [1, 2, 3]);",
      "console.log(JSON.stringify(await fx.getResult()));",
    ].join("\n"));
    expect(status(failed)).toBe("error");
    expect(failed.stderr).toContain("boom at 2");
    const fixed = await executeAfterError(FIXED);
    expect(status(fixed), fixed.stderr).toBe("ok");
    expect(fixed.stdout).toBe("[[],[]] [10,20,30] []\n");
  });

  it.each([
    // A notebook stops an unresolved name at the cell's type check, before the map runs.
    ["an unresolved name (Mth.max)", "await fx.map((x: number) => Mth.max(x, 1), [1, 2]);", "Cannot find name 'Mth'"],
    ["a missing source", `await fx.map((o: unknown) => String(o), objects(${JSON.stringify(`${storageRoot}/no-such-folder/`)}));`, "no-such-folder"],
    ["an unserializable input", "await fx.map((x: { f: () => number }) => x.f(), [{ f: () => 1 }]);", "TSWREN_NOT_SERIALIZABLE"],
    ["a non-function", "await fx.map(42 as never, [1]);", "TSWREN_BAD_INPUT"],
    ["items that miss a parameter", "await fx.map(({ x, y }: { x: number; y: number }) => x + y, [{ x: 1, z: 2 } as never]);", "TSWREN_ARGUMENT_MISMATCH"],
  ])("a map refused at submit for %s leaves nothing: the next cells see only the fixed job", async (_what, refused, code) => {
    const run = await executeAfterError(refused);
    expect(status(run)).toBe("error");
    expect(run.stderr).toContain(code);
    const fixed = await executeAfterError(FIXED);
    expect(status(fixed), fixed.stderr).toBe("ok");
    expect(fixed.stdout).toBe("[[],[]] [10,20,30] []\n");
    const plot = await executeAfterError(`const shown = await fx.plot(undefined, { dir: ${JSON.stringify(plotDir)}, name: "after" }); console.log(typeof shown);`);
    expect(status(plot), plot.stderr).toBe("ok");
  });

  it("a map refused for a read-only storage folder is a coded error naming the folder; that executor stays clean", async () => {
    const run = await executeAfterError([
      'const ro = functionExecutor({ config: { localhost_storage: { storage_root: "/sys/tswren-read-only" } } });',
      "try { await ro.map((x: number) => x, [1]); } catch (e) { console.log((e as { code?: string }).code, (e as Error).message); }",
      "console.log(JSON.stringify(await ro.getResult()), JSON.stringify(await ro.wait()));",
      "await ro.close();",
    ].join("\n"));
    expect(status(run), run.stderr).toBe("ok");
    expect(run.stdout).toContain("TSWREN_STORAGE localhost storage cannot write to its folder /sys/tswren-read-only");
    expect(run.stdout).toContain("storage_root");
    expect(run.stdout).toContain("[] [[],[]]\n");
    const fixed = await executeAfterError(FIXED);
    expect(fixed.stdout).toBe("[[],[]] [10,20,30] []\n");
  });

  it("a function run in the notebook may return futures of an executor it created: getResult gives their values", async () => {
    const run = await executeAfterError([
      "await fx.callAsync(async (n: number) => functionExecutor().map((x: number) => x + n, [1, 2]), 10);",
      "console.log(JSON.stringify(await fx.getResult()));",
    ].join("\n"));
    expect(status(run), run.stderr).toBe("ok");
    expect(run.stdout).toBe("[11,12]\n");
  });
});
