import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKernel, type ExecuteResult, type JupyterMessage, type KernelClient } from "../helpers/jupyter-client.js";
import { tempDir } from "../helpers/executor.js";

// The real `tswren` kernel (tslab 1.0.22 underneath) in its own process, driven over ZeroMQ like
// Jupyter drives it; jobs run on the localhost backend's worker processes (2 of them).

const storageRoot = tempDir("kernel-protocol");
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

describe("tswren kernel over the Jupyter protocol", () => {
  it("answers kernel_info, comm_info (comm_info_reply, no comms) and interrupt_request when idle", async () => {
    const info = await kernel.request("shell", "kernel_info_request");
    expect(info.header.msg_type).toBe("kernel_info_reply");
    expect(info.content["protocol_version"]).toBe("5.3");
    const comms = await kernel.request("shell", "comm_info_request", { target_name: "jupyter.widget" });
    expect(comms.header.msg_type).toBe("comm_info_reply");
    expect(comms.content).toEqual({ status: "ok", comms: {} });
    const interrupt = await kernel.request("control", "interrupt_request");
    expect(interrupt.header.msg_type).toBe("interrupt_reply");
    expect(interrupt.content).toEqual({ status: "ok" });
  });

  it("runs a %%cloud map cell on worker processes, shows the result and keeps it in the named variable", async () => {
    const run = await kernel.execute("%%cloud map [1, 2, 3] --as doubled\n(x: number) => x * 2");
    expect(status(run), run.stderr).toBe("ok");
    expect(run.stdout).toContain("[ 2, 4, 6 ]");
    const pids = await kernel.execute("%%cloud map [1, 2] --as pids\n(_x: number) => process.pid");
    expect(status(pids), pids.stderr).toBe("ok");
    const next = await kernel.execute("console.log(doubled.map((d) => d + 1).join(','), pids.includes(process.pid))");
    expect(next.stdout).toBe("3,5,7 false\n");
  });

  it("runs the TypeScript-valid /** @cloud */ form, call_async and map_reduce with options", async () => {
    const five = await kernel.execute("/** @cloud call_async 5 --as fifteen */\nfunction triple(x: number) { return x * 3; }");
    expect(status(five), five.stderr).toBe("ok");
    expect(five.stdout).toBe("15\n");
    const total = await kernel.execute("%%cloud map_reduce [1, 2, 3, 4] ((rs: number[]) => rs.reduce((a, b) => a + b, 0)) --as total --timeout 30\n(x: number) => x + 7");
    expect(status(total), total.stderr).toBe("ok");
    expect(total.stdout).toBe("38\n");
    const typed = await kernel.execute("const n: number = total + fifteen; console.log(n)");
    expect(typed.stdout).toBe("53\n");
  });

  it("reports a type error in a %%cloud cell at the user's line and column", async () => {
    const run = await kernel.execute("%%cloud map [1, 2] --as bad\n(x: number) => {\n  const s: string = x;\n  return s;\n}");
    expect(status(run)).toBe("error");
    expect(run.stderr).toContain("3:9 - Type 'number' is not assignable to type 'string'.");
    const mismatch = await executeAfterError("%%cloud map ['a', 'b'] --as worse\n(x: number) => x + 1");
    expect(status(mismatch)).toBe("error");
    const jsdoc = await executeAfterError("/**\n * @cloud map [1, 2] --as bad\n */\n(x: number) => { const s: string = x; return s; }");
    expect(jsdoc.stderr).toContain("4:24 - Type 'number' is not assignable to type 'string'.");
    // The function (the user's line 2) does not fit the items of the magic line.
    expect(mismatch.stderr).toMatch(/^2:1 - Type 'string' is not assignable to type 'number'\.$/m);
  });

  it("rejects a bad magic line with a message naming the fix, without running anything", async () => {
    const run = await executeAfterError("%%cloud mapp [1, 2]\n(x: number) => x");
    expect(status(run)).toBe("error");
    expect(run.stderr).toContain('TSWREN_BAD_INPUT: %%cloud: unknown verb "mapp"');
    expect(run.stderr).toContain("%%cloud map <iterdata>");
  });

  it("completes and inspects at the user's cursor inside a %%cloud cell", async () => {
    const code = "%%cloud map [1, 2] --as ys\n(x: number) => x.toFi";
    const reply = await kernel.request("shell", "complete_request", { code, cursor_pos: code.length });
    expect(reply.content["status"]).toBe("ok");
    expect(reply.content["matches"]).toContain("toFixed");
    expect(reply.content["cursor_start"]).toBe(code.length - "toFi".length);
    expect(reply.content["cursor_end"]).toBe(code.length);
    const inspect = await kernel.request("shell", "inspect_request", { code, cursor_pos: code.indexOf("x: number") + 1, detail_level: 0 });
    expect(inspect.content["found"]).toBe(true);
    expect(JSON.stringify(inspect.content["data"])).toContain("number");
  });

  it("sends full MIME bundles with display ids under the running cell (KernelHook.sendDisplay)", async () => {
    const run = await executeAfterError([
      "const hook = (globalThis as any).__tswrenKernel;",
      'hook.sendDisplay({ data: { "text/plain": "one", "text/html": "<b>one</b>" }, metadata: { tag: 1 }, transient: { display_id: "d-1" } }, false);',
      'hook.sendDisplay({ data: { "text/plain": "two" }, metadata: {}, transient: { display_id: "d-1" } }, true);',
      "console.log(hook.cellSignal() instanceof AbortSignal, hook.cellSignal().aborted)",
    ].join("\n"));
    expect(status(run), run.stderr).toBe("ok");
    expect(run.stdout).toBe("true false\n");
    const shown = run.iopub.find((m) => m.header.msg_type === "display_data");
    expect(shown?.content).toEqual({ data: { "text/plain": "one", "text/html": "<b>one</b>" }, metadata: { tag: 1 }, transient: { display_id: "d-1" } });
    const updated = run.iopub.find((m) => m.header.msg_type === "update_display_data");
    expect(updated?.content).toEqual({ data: { "text/plain": "two" }, metadata: {}, transient: { display_id: "d-1" } });
  });

  it("interrupt_request during a job cancels it promptly, stops its running calls and keeps the kernel alive", async () => {
    const setup = await executeAfterError('import { notebookExecutor } from "tswren";\nconst fx = notebookExecutor();\nlet saved: { status: string; error?: Error }[] = [];');
    expect(status(setup), setup.stderr).toBe("ok");
    const timers = "process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length";
    const before = await kernel.execute(`console.log(${timers})`);
    const running = kernel.startExecute([
      "const futures = await fx.map((x: number) => { const end = Date.now() + 120_000; while (Date.now() < end); return x; }, [1, 2, 3, 4], { timeout: 300 });",
      "saved = futures;",
      'console.log("submitted");',
      "await fx.getResult(futures);",
    ].join("\n"));
    await kernel.waitForIopub((m) => m.parent_header.msg_id === running.msgId && m.header.msg_type === "stream" && String(m.content["text"]).includes("submitted"));
    const interruptedAt = Date.now();
    const reply = await kernel.request("control", "interrupt_request");
    expect(reply.content).toEqual({ status: "ok" });
    const run = await running.done;
    expect(Date.now() - interruptedAt).toBeLessThan(5_000);
    expect(status(run)).toBe("error");
    expect(run.stderr).toContain("Interrupted: the cell was stopped; a tswren job it waited on was cancelled");
    const after = await executeAfterError('console.log(saved.map((f) => f.status).join(","), (saved[0].error as any).code)');
    expect(after.stdout).toBe("cancelled,cancelled,cancelled,cancelled TSWREN_CANCELLED\n");
    const timersAfter = await kernel.execute(`console.log(${timers})`);
    expect(timersAfter.stdout).toBe(before.stdout);
    // Both workers ran 120 s calls: this job can only finish quickly if they were stopped.
    const next = await kernel.execute("%%cloud map [1, 2, 3] --as again\n(x: number) => x * 10");
    expect(status(next), next.stderr).toBe("ok");
    expect(next.stdout).toBe("[ 10, 20, 30 ]\n");
  });

  it("SIGINT during a %%cloud job cancels it and the next cell runs", async () => {
    await executeAfterError("");
    const running = kernel.startExecute("%%cloud map [1, 2, 3, 4] --as never --timeout 300\n(x: number) => { const end = Date.now() + 120_000; while (Date.now() < end); return x; }");
    // A SIGINT that arrives before the cell started running is not the cell's (Jupyter's rule):
    // like a user pressing "interrupt" again, repeat it until the cell ends.
    let ended = false;
    const interrupting = (async () => {
      for (let i = 0; i < 100 && !ended; i++) {
        process.kill(kernel.process.pid as number, "SIGINT");
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    const run = await running.done.finally(() => { ended = true; });
    await interrupting;
    expect(status(run)).toBe("error");
    const next = await executeAfterError("%%cloud call_async 4 --as sixteen\n(x: number) => x * x");
    expect(status(next), next.stderr).toBe("ok");
    expect(next.stdout).toBe("16\n");
    expect(kernel.process.exitCode).toBeNull();
  });

  it("shutdown_request ends the kernel process with exit code 0", async () => {
    const exited = new Promise<number | null>((resolve) => { kernel.process.once("exit", (code) => { resolve(code); }); });
    await kernel.shutdown();
    expect(await exited).toBe(0);
  });
});

describe("tswren kernel in a folder without node_modules (a hosted notebook's home)", () => {
  it("type-checks and runs `import ... from \"tswren\"` and Node's types from the kernel's own installation", async () => {
    const folder = tempDir("kernel-bare-folder");
    const bare = await startKernel({
      cwd: folder,
      env: { TSWREN_CONFIG: JSON.stringify({ tswren: { backend: "localhost", storage: "localhost" }, localhost: { worker_processes: 1 }, localhost_storage: { storage_root: storageRoot } }) },
    });
    try {
      const run = await bare.execute([
        'import { functionExecutor, type ResponseFuture } from "tswren";',
        "const fx = functionExecutor();",
        "const futures: ResponseFuture<number>[] = await fx.map((x: number) => x * 2, [1, 2, 3]);",
        "const values = (await fx.getResult(futures)) as number[];",
        "await fx.close();",
        "console.log(values.join(','), typeof process.pid);",
      ].join("\n"));
      expect(status(run), run.stderr).toBe("ok");
      expect(run.stdout).toBe("2,4,6 number\n");
      // The types really come through: a misuse of the API is a type error, not `any`.
      const wrong = await bare.execute('import { functionExecutor as make } from "tswren";\nconst n: number = make().executorId;');
      expect(status(wrong)).toBe("error");
      expect(wrong.stderr).toContain("2:7 - Type 'string' is not assignable to type 'number'.");
    } finally {
      await bare.shutdown();
    }
  });
});

/** The display id of a display_data / update_display_data message. */
function displayId(m: JupyterMessage): string | undefined {
  return (m.content["transient"] as { display_id?: string } | undefined)?.display_id;
}

describe("tswren kernel: outputs belong to the cell whose code made them (Run All)", () => {
  let k: KernelClient;

  beforeAll(async () => {
    k = await startKernel({
      detached: true,
      env: { TSWREN_CONFIG: JSON.stringify({ tswren: { backend: "localhost", storage: "localhost" }, localhost: { worker_processes: 4 }, localhost_storage: { storage_root: storageRoot } }) },
    });
  });

  afterAll(async () => {
    await k.shutdown();
  });

  /** What a display shows, for the assertions: the progress label, the chart title or the data's text. */
  function shows(m: JupyterMessage): string {
    const data = m.content["data"] as Record<string, unknown>;
    const progress = data["application/vnd.tswren.progress+json"] as { label?: string } | undefined;
    const chart = data["application/vnd.vegalite.v5+json"] as { title?: unknown } | undefined;
    return progress?.label ?? (chart ? `chart ${JSON.stringify(chart.title)}` : JSON.stringify(data));
  }

  it("sends every display_data and update_display_data of cells sent back to back under the cell that made it, also from callbacks after the cell returned", async () => {
    const plots = tempDir("kernel-runall-plots");
    const cells = [
      ['import { notebookExecutor } from "tswren";', "const fx = notebookExecutor();", "function plusOne(x: number) { return x + 1; }",
        "const fa = await fx.map(plusOne, [1, 2, 3]);", "console.log(await fx.getResult(fa));", `await fx.plot(fa, { dir: ${JSON.stringify(plots)} });`].join("\n"),
      ['import * as tslab from "tslab";', "function napOne(x: number) { const end = Date.now() + 800; while (Date.now() < end); return x; }",
        'fx.map(napOne, [1, 2]).then((fs) => fx.getResult(fs)).then((r) => { tslab.display.html(`<i>napOne ${String(r)}</i>`); });',
        'setTimeout(() => { tslab.display.html("<i>timer of cell 2</i>"); }, 300);'].join("\n"),
      ["function slowSquare(x: number) { const end = Date.now() + 1500; while (Date.now() < end); return x * x; }",
        "console.log(await fx.getResult(await fx.map(slowSquare, [2, 3])));"].join("\n"),
      'console.log("last cell");',
    ];
    const runs = cells.map((code) => k.startExecute(code)); // all queued before the first ran
    const results = await Promise.all(runs.map((r) => r.done));
    for (const run of results) expect(status(run), run.stderr).toBe("ok");
    await k.waitForIopub((m) => m.header.msg_type === "display_data" && JSON.stringify(m.content).includes("napOne 1,2"));
    await k.waitForIopub((m) => m.header.msg_type === "display_data" && JSON.stringify(m.content).includes("timer of cell 2"));
    const seen = k.iopubMessages();
    const cellOf = (m: JupyterMessage): number => runs.findIndex((r) => r.msgId === m.parent_header.msg_id) + 1;
    const shown = seen.filter((m) => m.header.msg_type === "display_data" || m.header.msg_type === "update_display_data");
    const where = new Map<string, number>();
    for (const m of shown) {
      const id = displayId(m);
      if (m.header.msg_type === "display_data") where.set(shows(m), cellOf(m));
      if (id !== undefined) {
        const first = shown.find((d) => displayId(d) === id);
        expect(cellOf(m), `update of ${shows(m)}`).toBe(cellOf(first!));
      }
    }
    expect(Object.fromEntries(where)).toMatchObject({
      "map plusOne, 3 calls": 1,
      "map napOne, 2 calls": 2,
      "map slowSquare, 2 calls": 3,
    });
    expect([...where].filter(([what]) => what.startsWith("chart")).map(([, cell]) => cell)).toEqual([1, 1]);
    expect([...where].filter(([what]) => what.includes("napOne 1,2") || what.includes("timer of cell 2")).map(([, cell]) => cell)).toEqual([2, 2]);
    expect(shown.some((m) => cellOf(m) === 4)).toBe(false);
  });

  it("answers history_request (tail, range, search) with the cells it ran", async () => {
    const tail = await k.request("shell", "history_request", { output: false, raw: true, hist_access_type: "tail", n: 2 });
    expect(tail.header.msg_type).toBe("history_reply");
    expect(tail.content["status"]).toBe("ok");
    const entries = tail.content["history"] as Array<[number, number, string]>;
    expect(entries.map((e) => e[2])).toEqual([expect.stringContaining("slowSquare"), 'console.log("last cell");']);
    expect(entries.map((e) => e[1])).toEqual([3, 4]);
    const range = await k.request("shell", "history_request", { output: false, raw: true, hist_access_type: "range", session: 0, start: 1, stop: 2 });
    expect((range.content["history"] as Array<[number, number, string]>).map((e) => e[1])).toEqual([1]);
    const search = await k.request("shell", "history_request", { output: false, raw: true, hist_access_type: "search", pattern: "*napOne*" });
    expect((search.content["history"] as Array<[number, number, string]>).map((e) => e[1])).toEqual([2]);
  });

  it("an interrupt cancels only the jobs the interrupted cell waits on; a background job's results still arrive", async () => {
    const bg = await k.execute("function napTwo(x: number) { const end = Date.now() + 1500; while (Date.now() < end); return x * 2; }\nconst bg = await fx.map(napTwo, [1, 2]);");
    expect(status(bg), bg.stderr).toBe("ok");
    const waiting = k.startExecute('console.log("waiting");\nawait new Promise((resolve) => setTimeout(resolve, 120_000));');
    await k.waitForIopub((m) => m.parent_header.msg_id === waiting.msgId && m.header.msg_type === "stream" && String(m.content["text"]).includes("waiting"));
    await k.request("control", "interrupt_request");
    const run = await waiting.done;
    expect(status(run)).toBe("error");
    expect(run.stderr).toContain("Interrupted: the cell was stopped");
    expect(run.stderr).not.toContain("tswren job"); // it waited on no tswren job
    const after = await executeAfterErrorOn(k, 'console.log(await fx.getResult(bg), bg.map((f) => f.status).join(","))');
    expect(after.stdout, after.stderr).toBe("[ 2, 4 ] success,success\n");
  });

  it("SIGINT to the kernel's whole process group (Jupyter without interrupt_mode message) does not reach local workers", async () => {
    const bg = await k.execute("const bg2 = await fx.map(napTwo, [3, 4]);");
    expect(status(bg), bg.stderr).toBe("ok");
    process.kill(-(k.process.pid as number), "SIGINT");
    const after = await executeAfterErrorOn(k, 'console.log(await fx.getResult(bg2), bg2.map((f) => f.status).join(","))');
    expect(after.stdout, after.stderr).toBe("[ 6, 8 ] success,success\n");
    expect(k.process.exitCode).toBeNull();
  });
});

/** {@link executeAfterError} on another kernel. */
async function executeAfterErrorOn(client: KernelClient, code: string): Promise<ExecuteResult> {
  for (let attempt = 0; ; attempt++) {
    const run = await client.execute(code);
    if (status(run) !== "abort" || attempt === 40) return run;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
