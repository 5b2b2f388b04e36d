/**
 * One call's faults stay with that call (localhost workers, real worker processes): timers and
 * promises a call leaves behind never fail the next call on its worker, an uncaught error inside
 * a call fails that call with its own message and stack, and close() stops only its own calls.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { RemoteFunctionError, type FunctionExecutor } from "../../kernel-lib/src/index.js";
import { tempDir, testExecutor } from "../helpers/executor.js";

const root = tempDir("faults");
const marks = tempDir("fault-marks");
const oneWorker = { localhost: { worker_processes: 1 } };
const executors: FunctionExecutor[] = [];
function executor(config: Record<string, unknown> = oneWorker): FunctionExecutor {
  const fx = testExecutor(root, { config, retries: 0 });
  executors.push(fx);
  return fx;
}
afterAll(async () => { await Promise.all(executors.map((fx) => fx.close())); });

/** Collects what is written to this process's stderr, and waits for a line matching a pattern. */
class StderrWatch {
  text = "";
  private readonly original = process.stderr.write.bind(process.stderr);
  private readonly waiters: Array<{ pattern: RegExp; resolve: (text: string) => void }> = [];

  constructor() {
    process.stderr.write = ((chunk: string | Uint8Array, ...rest: never[]): boolean => {
      this.text += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      for (const w of [...this.waiters]) {
        if (w.pattern.test(this.text)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(this.text);
        }
      }
      return this.original(chunk, ...rest);
    });
  }

  waitFor(pattern: RegExp): Promise<string> {
    if (pattern.test(this.text)) return Promise.resolve(this.text);
    return new Promise((resolve) => this.waiters.push({ pattern, resolve }));
  }

  stop(): void {
    process.stderr.write = this.original;
  }
}

let watch: StderrWatch | null = null;
afterEach(() => { watch?.stop(); watch = null; });

/** A function for the next call: waits (in the worker) until `marker` exists, then returns its pid. */
const waitForMarker = async (marker: string): Promise<number> => {
  const fs = require("node:fs") as typeof import("node:fs");
  await new Promise<void>((resolve) => {
    const t = setInterval(() => { if (fs.existsSync(marker)) { clearInterval(t); resolve(); } }, 5);
  });
  return process.pid;
};

const leftBehind = {
  throw: (marker: string): number => {
    const fs = require("node:fs") as typeof import("node:fs");
    setTimeout(() => { fs.writeFileSync(marker, ""); throw new Error("late throw from a timer"); }, 50);
    return process.pid;
  },
  reject: (marker: string): number => {
    const fs = require("node:fs") as typeof import("node:fs");
    setTimeout(() => { fs.writeFileSync(marker, ""); void Promise.reject(new Error("late rejection from a timer")); }, 50);
    return process.pid;
  },
  exit: (marker: string): number => {
    const fs = require("node:fs") as typeof import("node:fs");
    setTimeout(() => { fs.writeFileSync(marker, ""); process.exit(4); }, 50);
    return process.pid;
  },
};

describe("what a call leaves behind never fails the next call on its worker", () => {
  it.each(Object.keys(leftBehind) as Array<keyof typeof leftBehind>)(
    "a timer that runs `%s` after its call returned: the next call (another executor, retries 0) succeeds, the late error is logged against the guilty call, the worker is replaced",
    async (kind) => {
      watch = new StderrWatch();
      const guilty = executor();
      const next = executor();
      const marker = path.join(marks, `late-${kind}`);
      const [first] = await guilty.map(leftBehind[kind], [marker]);
      const guiltyPid = await guilty.getResult(first);
      const [second] = await next.map(waitForMarker, [marker]);
      expect(await next.getResult(second)).toEqual(expect.any(Number));
      expect(second?.status).toBe("success");
      const jobRef = `${first?.executorId ?? ""}-${first?.jobId ?? ""}`;
      const logged = await watch.waitFor(new RegExp(`call 00000 of job ${jobRef} (called process\\.exit|had an)`));
      const words = kind === "exit" ? "process.exit(4)" : `late ${kind === "throw" ? "throw" : "rejection"} from a timer`;
      expect(logged).toContain(words);
      // The guilty future carries it too; the innocent one does not.
      expect(first?.lateErrors).toEqual([expect.stringContaining(words)]);
      expect(first?.logs()).toMatch(new RegExp(`call 00000 of job ${jobRef} .*after it had returned[^]*${words.replace(/[().]/g, "\\$&")}`));
      expect(second?.lateErrors).toEqual([]);
      const [third] = await next.map(() => process.pid, [0]);
      expect(await next.getResult(third)).not.toBe(guiltyPid);
    },
  );
});

describe("an uncaught error during a call fails that call with its own message and stack", () => {
  it("a timer that throws while the call still runs: the call's error is the thrown error with the user's frame", async () => {
    const fx = executor();
    const [future] = await fx.map(async (x: number) => {
      setTimeout(function explodeLater() { throw new TypeError(`boom in a timer ${x}`); }, 10);
      await new Promise(() => undefined);
    }, [7], { timeout: 30 });
    const err = await fx.getResult(future).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteFunctionError);
    const remote = err as RemoteFunctionError;
    expect(remote.remoteName).toBe("TypeError");
    expect(remote.message).toContain("boom in a timer 7");
    expect(remote.remoteStack).toMatch(/TypeError: boom in a timer 7\n\s+at (Timeout\.)?explodeLater .*tswren-function/);
  });

  it("an unhandled rejection while the call runs fails the call with the rejection's message", async () => {
    const fx = executor();
    const [future] = await fx.map(async () => {
      void Promise.reject(new RangeError("nobody awaited me"));
      await new Promise(() => undefined);
    }, [1], { timeout: 30 });
    await fx.getResult(future, { throwExcept: false });
    expect(future?.error?.message).toContain("nobody awaited me");
    expect((future?.error as RemoteFunctionError | undefined)?.remoteStack).toMatch(/RangeError: nobody awaited me\n\s+at .*tswren-function/);
  });

  it("the pool goes on after such a call: the next calls succeed", async () => {
    const fx = executor();
    const futures = await fx.map((x: number) => x * 3, [1, 2, 3]);
    expect(await fx.getResult(futures)).toEqual([3, 6, 9]);
  });
});

describe("close()", () => {
  it("stops the executor's running calls within a second, leaves other executors' calls running, and frees the pool", async () => {
    const twoWorkers = { localhost: { worker_processes: 2 } };
    const closing = testExecutor(root, { config: twoWorkers, retries: 0 });
    const other = executor(twoWorkers);
    const pidFile = path.join(marks, "closing-pid");
    const release = path.join(marks, "release-other");
    await closing.map((file: string) => {
      const fs = require("node:fs") as typeof import("node:fs");
      fs.writeFileSync(file, String(process.pid));
      return new Promise(() => undefined);
    }, [pidFile], { timeout: 120 });
    const [otherCall] = await other.map(waitForMarker, [release], { timeout: 120 });
    const pid = await until(() => (existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8")) : null), "the closing executor's call to start");
    const closedAt = Date.now();
    await closing.close();
    await until(() => (isAlive(pid) ? null : true), `close() to stop worker ${pid}`);
    const stoppedMs = Date.now() - closedAt;
    expect(otherCall?.done).toBe(false);
    writeFileSync(release, "");
    expect(await other.getResult(otherCall)).toEqual(expect.any(Number));
    const next = executor(twoWorkers);
    const futures = await next.map((x: number) => x + 1, [1, 2, 3, 4]);
    expect(await next.getResult(futures)).toEqual([2, 3, 4, 5]);
    // A loose bound (shared CPU): the call was stopped by close(), not by its 120 s timeout.
    expect(stoppedMs).toBeLessThan(5000);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Re-check `probe` every few milliseconds until it gives a value (at most 30 s, then say what was awaited). */
async function until<T>(probe: () => T | null, what = "a condition"): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const value = probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`waited 30 s for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
