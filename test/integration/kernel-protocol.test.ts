import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKernel, type ExecuteResult, type KernelClient } from "../helpers/jupyter-client.js";
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
    expect(run.stderr).toContain("Interrupted: the cell was stopped");
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
