/**
 * One slot of a function's pool: one AWS Runtime Interface Emulator process (`aws-lambda-rie`) on
 * its own two ports, running the function's runtime client under AWS's own runtime manager. The
 * RIE serves one invocation at a time (a second concurrent request crashes it), so the pool hands
 * a slot to one invocation at a time. The process runs under the test services' supervisor and
 * never outlives the test process.
 */
import { mkdtempSync } from "node:fs";
import { Agent, request } from "node:http";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { freePort } from "../../helpers/ports.js";
import { startSupervised, type Supervised } from "../../services/supervised.js";

/** How the slot's RIE and runtime start. */
export interface SlotSpec {
  /** The `aws-lambda-rie` binary. */
  riePath: string;
  /** The runtime's bootstrap command, e.g. `["node", ".../aws-lambda-ric.mjs"]`. */
  bootstrap: string[];
  /** The function's unpacked code (`LAMBDA_TASK_ROOT`, the runtime's working directory). */
  taskRoot: string;
  /** Environment of the runtime (the function's variables, `_HANDLER`, limits, credentials). */
  env: Record<string, string>;
}

/** What the RIE answered. */
export interface RieAnswer {
  status: number;
  text: string;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: "127.0.0.1", port }, () => {
      socket.end();
      resolve(true);
    });
    socket.on("error", () => resolve(false));
  });
}

/** One RIE process serving one invocation at a time. */
export class RieSlot {
  private server: Supervised | undefined;
  private port = 0;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });

  /** @param spec - binary, bootstrap, task root and environment */
  constructor(private readonly spec: SlotSpec) {}

  /** Start the RIE (the runtime itself starts at the first invocation: a cold init). */
  async start(): Promise<void> {
    this.port = await freePort();
    const apiPort = await freePort();
    const dir = mkdtempSync(path.join(tmpdir(), "tswren-rie-"));
    const port = this.port;
    this.server = await startSupervised({
      name: "aws-lambda-rie",
      command: this.spec.riePath,
      args: ["--runtime-interface-emulator-address", `127.0.0.1:${port}`, "--runtime-api-address", `127.0.0.1:${apiPort}`, ...this.spec.bootstrap],
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dir, LAMBDA_TASK_ROOT: this.spec.taskRoot, ...this.spec.env },
      cwd: this.spec.taskRoot,
      dir,
      ready: () => portOpen(port),
      readyTimeoutMs: 15_000,
      stopTimeoutMs: 5_000,
    });
  }

  /** True while the RIE process runs. */
  get alive(): boolean {
    return this.server !== undefined;
  }

  /**
   * Run one invocation (synchronously, the only way the RIE knows).
   * @param body - the event
   * @param requestId - the invocation's request id (the RIE hands it to the runtime)
   * @param timeoutMs - give up after this long (the RIE itself ends the runtime at the function's timeout)
   */
  invoke(body: Buffer, requestId: string, timeoutMs: number): Promise<RieAnswer> {
    return new Promise((resolve, reject) => {
      const req = request(
        { agent: this.agent, host: "127.0.0.1", port: this.port, method: "POST", path: "/2015-03-31/functions/function/invocations", headers: { "content-length": body.length, "x-amzn-requestid": requestId } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", reject);
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`the RIE did not answer within ${timeoutMs} ms`)));
      req.on("error", reject);
      req.end(body);
    });
  }

  /** The RIE's recent output (runtime logs, START/END/REPORT lines). */
  output(): string {
    return this.server?.output() ?? "";
  }

  /** Stop the RIE and its runtime. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.agent.destroy();
    await server?.stop();
  }
}
