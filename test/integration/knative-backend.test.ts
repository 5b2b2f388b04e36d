/**
 * The Knative compute backend against the project's real runtime HTTP server
 * (kernel-lib/dist/runtime/http-server.mjs) run as a local process, and against a small
 * node:http stub of a Knative service for the platform's failure answers (503, 502, lost
 * responses) that the real server does not produce on demand.
 */
import { fork, type ChildProcess } from "node:child_process";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ComputeEvent } from "../../kernel-lib/src/compute/backend.js";
import { KnativeCompute } from "../../kernel-lib/src/compute/knative.js";
import { validateSection } from "../../kernel-lib/src/config/validate.js";
import { ErrorCodes } from "../../kernel-lib/src/errors.js";
import { encodeStatus, PROTOCOL_VERSION, type CallStatus } from "../../kernel-lib/src/protocol.js";
import { deserializeValue } from "../../kernel-lib/src/serialize.js";
import { TSWREN_VERSION } from "../../kernel-lib/src/version.js";
import { tempDir } from "../helpers/executor.js";
import { startMarkers, testJob, waitForStatuses } from "../helpers/job-payload.js";
import { caught } from "../helpers/caught.js";
import { TEST_SIGNING_KEY } from "../helpers/signing.js";

const SERVER = path.resolve(import.meta.dirname, "../../kernel-lib/dist/runtime/http-server.mjs");
const root = tempDir("knative-backend");
const backends: KnativeCompute[] = [];
let server: ChildProcess;
let url = "";
let jobs = 0;

function nextIds(): { executorId: string; jobId: string } {
  return { executorId: "0fedcb-0", jobId: `M${String(jobs++).padStart(3, "0")}` };
}

function knative(config: Record<string, unknown>): KnativeCompute {
  const b = new KnativeCompute(validateSection("knative", { runtime_timeout: 60, signing_key: TEST_SIGNING_KEY, ...config }, "test"), { attempts: 3, retryBaseMs: 10 });
  backends.push(b);
  return b;
}

/** Collect status events until `n` arrived. */
function statusEvents(b: KnativeCompute, n: number): Promise<CallStatus[]> {
  return new Promise((resolve) => {
    const seen: CallStatus[] = [];
    const off = b.onEvent((e: ComputeEvent) => {
      if (e.type !== "status") return;
      seen.push(e.status);
      if (seen.length === n) {
        off();
        resolve(seen.sort((a, c) => a.callId.localeCompare(c.callId)));
      }
    });
  });
}

beforeAll(async () => {
  server = fork(SERVER, [], {
    env: { ...process.env, PORT: "0", TSWREN_LISTEN_HOST: "127.0.0.1", TSWREN_CONCURRENCY: "4", TSWREN_SIGNING_KEY: TEST_SIGNING_KEY, TSWREN_LOCALHOST_STORAGE_ROOT: tmpdir() },
    stdio: ["ignore", "ignore", "ignore", "ipc"],
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once("message", (m: { type?: string; port?: number }) => { if (m.type === "listening" && m.port !== undefined) resolve(m.port); });
    server.once("exit", (code) => { reject(new Error(`runtime http server exited with ${String(code)}`)); });
  });
  url = `http://127.0.0.1:${port}/`;
});

afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
  server.kill("SIGTERM");
});

describe("Knative backend on the runtime's HTTP server", () => {
  it("runs each call as a POST and delivers its status on the direct channel", async () => {
    const b = knative({ url });
    expect(Object.keys(b.capabilities).sort()).toEqual(["events", "reportsEveryCall", "runtimeList"]);
    expect(b.capabilities.reportsEveryCall).toBe(false);
    const job = await testJob(root, nextIds(), (x: number) => x * 2, [1, 2, 3]);
    const events = statusEvents(b, 3);
    await Promise.all(job.payload.calls.map((c) => b.invoke({ ...job.payload, calls: [c] })));
    const statuses = await events;
    expect(statuses.map((s) => s.result?.kind === "inline" && deserializeValue(s.result.bytes))).toEqual([2, 4, 6]);
    expect(statuses.every((s) => s.runtime.tswrenVersion === TSWREN_VERSION)).toBe(true);
    // The runtime also wrote start keys and status.json, for the storage monitor.
    expect((await waitForStatuses(job)).length).toBe(3);
    expect((await startMarkers(job)).length).toBe(3);
  });

  it("invoke resolves once the service is reached, not when the calls end", async () => {
    const b = knative({ url, max_workers: 1 });
    const job = await testJob(root, nextIds(), async (x: number) => { await new Promise((r) => setTimeout(r, 200)); return x; }, [1, 2, 3, 4]);
    const events = statusEvents(b, 4);
    let ended = 0;
    b.onEvent(() => { ended++; });
    await Promise.all(job.payload.calls.map((c) => b.invoke({ ...job.payload, calls: [c] })));
    expect(ended).toBeLessThan(4);
    expect((await events).every((s) => s.ok)).toBe(true);
  });

  it("a client of another tswren version gets failed calls and then a clear error", async () => {
    const b = knative({ url });
    const job = await testJob(root, nextIds(), (x: number) => x, [1]);
    const events = statusEvents(b, 1);
    await b.invoke({ ...job.payload, tswrenVersion: "0.0.1" });
    const [status] = await events;
    expect(status?.ok).toBe(false);
    expect(status?.error?.message).toMatch(/0\.0\.1/);
    const err = await caught(b.invoke(job.payload));
    expect(err.code).toBe(ErrorCodes.RUNTIME_VERSION);
  });

  it("an unreachable service fails the invoke with TSWREN_COMPUTE_UNREACHABLE", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const b = knative({ url: `http://127.0.0.1:${port}/` });
    const job = await testJob(root, nextIds(), (x: number) => x, [1]);
    const err = await caught(b.invoke(job.payload));
    expect(err.code).toBe(ErrorCodes.COMPUTE_UNREACHABLE);
    expect(err.message).toContain("knative.url");
  });
});

describe("Knative backend against a stub service with scripted failures", () => {
  /** Per request, in order: what the stub of a Knative service does. */
  type Step = "ok" | "503" | "502" | "lose-response";
  let stub: Server;
  let stubUrl = "";
  let script: Step[] = [];
  let requests = 0;

  function okBody(body: string): string {
    const p = JSON.parse((JSON.parse(body) as { body: string }).body) as { executorId: string; jobId: string; calls: Array<{ callId: string; attempt: number }> };
    const statuses = p.calls.map((c) =>
      encodeStatus({
        protocolVersion: PROTOCOL_VERSION, executorId: p.executorId, jobId: p.jobId, callId: c.callId, attempt: c.attempt, ok: true,
        stats: { hostJobCreateMs: 0, hostSubmitMs: 0 }, logs: "", workerId: "stub", runtime: { tswrenVersion: TSWREN_VERSION, nodeVersion: process.version },
      }),
    );
    return `{"tswrenVersion":"${TSWREN_VERSION}","nodeVersion":"${process.version}","statuses":[${statuses.join(",")}]}`;
  }

  function serve(req: IncomingMessage, res: ServerResponse): void {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      requests++;
      const step = script.shift() ?? "ok";
      if (step === "lose-response") res.socket?.destroy();
      else if (step === "ok") res.writeHead(200, { "content-type": "application/json" }).end(okBody(body));
      else res.writeHead(Number(step), { "content-type": "application/json" }).end(JSON.stringify({ error: `stub ${step}` }));
    });
  }

  beforeAll(async () => {
    stub = createServer(serve);
    await new Promise<void>((resolve) => stub.listen(0, "127.0.0.1", resolve));
    stubUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    stub.closeAllConnections();
    await new Promise((resolve) => stub.close(resolve));
  });

  it("re-sends a request the service refused with 503, then delivers the status", async () => {
    const b = knative({ url: stubUrl });
    const job = await testJob(root, nextIds(), (x: number) => x, [1]);
    script = ["503", "503", "ok"];
    const before = requests;
    const events = statusEvents(b, 1);
    await b.invoke(job.payload);
    expect((await events)[0]?.ok).toBe(true);
    expect(requests - before).toBe(3);
  });

  it("a 502 (the container died) fails the call as a crash at once", async () => {
    const b = knative({ url: stubUrl });
    const job = await testJob(root, nextIds(), (x: number) => x, [1]);
    script = ["502"];
    const events = statusEvents(b, 1);
    await b.invoke(job.payload);
    const [status] = await events;
    expect(status?.ok).toBe(false);
    expect(status?.error).toMatchObject({ kind: "crash" });
    expect(status?.error?.message).toContain("HTTP 502");
  });

  it("a lost response is tolerated: no event, no error (the storage monitor covers the call)", async () => {
    const b = knative({ url: stubUrl });
    const job = await testJob(root, nextIds(), (x: number) => x, [1, 2]);
    script = ["lose-response"];
    const seen: string[] = [];
    b.onEvent((e) => { if (e.type === "status") seen.push(e.status.callId); });
    const second = statusEvents(b, 1);
    await b.invoke({ ...job.payload, calls: job.payload.calls.slice(0, 1) });
    await b.invoke({ ...job.payload, calls: job.payload.calls.slice(1) });
    await second;
    expect(seen).toEqual(["00001"]);
  });
});
