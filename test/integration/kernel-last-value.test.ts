import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKernel, type ExecuteResult, type JupyterMessage, type KernelClient } from "../helpers/jupyter-client.js";
import { tempDir } from "../helpers/executor.js";

// The real `tswren` kernel over the Jupyter protocol: what a cell's last expression prints (charts
// only for fx.plot / showVegaLite, whatever follows the expression; a Promise once it settles), and
// the final progress update a clean shutdown sends.

const storageRoot = tempDir("kernel-last-value");
const plots = tempDir("kernel-last-value-plots");
let kernel: KernelClient;

beforeAll(async () => {
  kernel = await startKernel({
    env: { TSWREN_CONFIG: JSON.stringify({ tswren: { backend: "localhost", storage: "localhost" }, localhost: { worker_processes: 2 }, localhost_storage: { storage_root: storageRoot } }) },
  });
  const setup = await kernel.execute([
    'import { notebookExecutor, showVegaLite } from "tswren";',
    "const fx = notebookExecutor();",
    "function addOne(x: number) { return x + 1; }",
    "const fa = await fx.map(addOne, [1, 2, 3]);",
    "await fx.getResult(fa);",
  ].join("\n"));
  expect(setup.reply.content["status"], setup.stderr).toBe("ok");
});

afterAll(async () => {
  await kernel.shutdown();
});

function kinds(run: ExecuteResult): string[] {
  return run.iopub.map((m) => m.header.msg_type).filter((t) => t !== "status");
}

function mimeTypes(m: JupyterMessage): string[] {
  return Object.keys(m.content["data"] as Record<string, unknown>);
}

const PLOT = `fx.plot(fa, { dir: ${JSON.stringify(plots)} })`;
const CHART = 'showVegaLite({ title: "one point", data: { values: [{ x: 1 }] }, mark: "point", encoding: { x: { field: "x", type: "quantitative" } } })';

describe("a cell's last expression in the tswren kernel", () => {
  it.each([
    ["await fx.plot(...)", `await ${PLOT}`, 2],
    ["await fx.plot(...) and an empty line", `await ${PLOT}\n\n`, 2],
    ["await fx.plot(...); and empty lines", `await ${PLOT};\n\n\n`, 2],
    ["await fx.plot(...) and a comment", `await ${PLOT}\n// the charts\n`, 2],
    ["await showVegaLite(...) and an empty line", `await ${CHART}\n\n`, 1],
  ])("%s shows the charts only (no stdout line)", async (_name, code, charts) => {
    const run = await kernel.execute(code);
    expect(run.reply.content["status"], run.stderr).toBe("ok");
    expect(kinds(run)).toEqual(Array<string>(charts).fill("display_data"));
    for (const m of run.iopub.filter((x) => x.header.msg_type === "display_data")) expect(mimeTypes(m)).toContain("application/vnd.vegalite.v5+json");
    expect(run.stdout).toBe("");
  });

  it("fx.plot(...) without await shows the charts under its cell once drawn, not `Promise { <pending> }`", async () => {
    const run = await kernel.execute(`${PLOT}\n\n`);
    expect(run.reply.content["status"], run.stderr).toBe("ok");
    expect(run.stdout).toBe("");
    const ofCell = (m: JupyterMessage): boolean => m.parent_header.msg_id === run.reply.parent_header.msg_id && m.header.msg_type === "display_data";
    await kernel.waitForIopub((m) => ofCell(m) && JSON.stringify(m.content).includes("calls running"));
    await new Promise((resolve) => setTimeout(resolve, 300)); // nothing else comes
    const late = kernel.iopubMessages().filter(ofCell);
    expect(late.map((m) => mimeTypes(m).includes("application/vnd.vegalite.v5+json"))).toEqual([true, true]);
    const next = await kernel.execute('console.log("next")');
    expect(next.stdout).toBe("next\n");
  });

  it("a Promise shows its value when it settles; other values print as before", async () => {
    const run = await kernel.execute("new Promise((resolve) => setTimeout(() => resolve({ answer: 42 }), 200))\n\n");
    expect(run.stdout).toBe("");
    const shown = await kernel.waitForIopub((m) => m.parent_header.msg_id === run.reply.parent_header.msg_id && m.header.msg_type === "display_data");
    expect((shown.content["data"] as Record<string, unknown>)["text/plain"]).toBe("{ answer: 42 }");
    const value = await kernel.execute("[1, 2].map((x) => x * 2)\n\n");
    expect(value.stdout).toBe("[ 2, 4 ]\n");
    const text = await kernel.execute('"plain text"');
    expect(text.stdout).toBe("plain text\n");
  });
});

describe("a clean shutdown", () => {
  it("sends the final update of a live progress bar: stopped: kernel shut down", async () => {
    const k = await startKernel({
      env: { TSWREN_CONFIG: JSON.stringify({ tswren: { backend: "localhost", storage: "localhost" }, localhost: { worker_processes: 1 }, localhost_storage: { storage_root: tempDir("kernel-shutdown") } }) },
    });
    try {
      const run = await k.execute([
        'import { notebookExecutor } from "tswren";',
        "const fx = notebookExecutor();",
        "function napLong(x: number) { const end = Date.now() + 60_000; while (Date.now() < end); return x; }",
        "const slow = await fx.map(napLong, [1, 2, 3]);",
        "fx.getResult(slow).catch(() => undefined);",
        'console.log("started");',
      ].join("\n"));
      expect(run.stdout, run.stderr).toBe("started\n");
      const shown = run.iopub.find((m) => m.header.msg_type === "display_data");
      const id = (shown?.content["transient"] as { display_id: string } | undefined)?.display_id;
      expect(id).toBeDefined();
    } finally {
      await k.shutdown();
    }
    const finalUpdate = k.iopubMessages().filter((m) => m.header.msg_type === "update_display_data").at(-1);
    const payload = (finalUpdate?.content["data"] as Record<string, { finished: boolean; stopped?: string; running: number }> | undefined)?.["application/vnd.tswren.progress+json"];
    expect(payload).toMatchObject({ finished: true, stopped: "kernel shut down" });
    expect((finalUpdate?.content["data"] as Record<string, string>)["text/plain"]).toContain("stopped: kernel shut down");
  });
});
