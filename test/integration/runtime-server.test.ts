/**
 * The runtime's servers alone, as child processes on loopback: the OpenWhisk action proxy with
 * the real `openwhisk-action.zip` (/init and /run contract, `__OW_*` environment, `{error}`
 * results, activation-end markers, real calls on localhost storage, the remote invoker against a
 * small fake OpenWhisk API) and the Knative HTTP server (health, metadata, calls, SIGTERM).
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { zipSync } from "fflate";
import { afterAll, describe, expect, it } from "vitest";
import type { CallStatusJson, RemoteInvokeRequest } from "../../kernel-lib/src/protocol.js";
import type { ErrorResult, RemoteInvokeResult, RunResult } from "../../runtime/src/entry/action.js";
import { tempDir } from "../helpers/executor.js";
import { buildJob, localStorageRef } from "../helpers/payloads.js";
import { TEST_SIGNING_KEY, signed } from "../helpers/signing.js";
import { SigningKey, verifyPayload } from "../../kernel-lib/src/security/signing.js";
import { RUNTIME_DIST, postJson, startRuntimeProcess, type RuntimeProcess } from "../helpers/runtime-process.js";

const MARKER = "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX";
const storage = localStorageRef(tempDir("runtime-server"));
const actionZip = readFileSync(path.join(RUNTIME_DIST, "openwhisk-action.zip")).toString("base64");
const processes: RuntimeProcess[] = [];
afterAll(() => { for (const p of processes) p.kill(); });

async function start(file: "action-proxy.mjs" | "http-server.mjs", env: Record<string, string> = {}): Promise<RuntimeProcess> {
  const p = await startRuntimeProcess(file, env);
  processes.push(p);
  return p;
}

/** A proxy initialized with the real tswren action zip. */
async function runtimeProxy(): Promise<RuntimeProcess> {
  const p = await start("action-proxy.mjs");
  const init = await postJson(`${p.url}/init`, { value: { name: "tswren-runtime", main: "main", code: actionZip, binary: true, env: {} } });
  expect(init).toEqual({ status: 200, body: { ok: true } });
  return p;
}

/** A proxy initialized with plain JavaScript source. */
async function sourceProxy(code: string): Promise<RuntimeProcess> {
  const p = await start("action-proxy.mjs");
  expect((await postJson(`${p.url}/init`, { value: { name: "t", main: "main", code, binary: false } })).status).toBe(200);
  return p;
}

/** The body of a `/run`, as the invoker sends it. */
function activation(value: unknown, activationId = "0123abcd"): Record<string, unknown> {
  return { value, namespace: "guest", action_name: "/guest/tswren/runtime", activation_id: activationId, transaction_id: "tx-1", api_key: "user:secret", deadline: String(Date.now() + 60_000) };
}

const markerLines = (text: string): number => text.split("\n").filter((line) => line === MARKER).length;

describe("OpenWhisk action proxy: /init and /run", () => {
  it("refuses /run before /init, and a second /init after the real action zip was loaded", async () => {
    const p = await start("action-proxy.mjs");
    expect((await postJson(`${p.url}/run`, activation({}))).status).toBe(403);
    const init = { value: { name: "tswren-runtime", main: "main", code: actionZip, binary: true } };
    expect((await postJson(`${p.url}/init`, init)).status).toBe(200);
    expect(await postJson(`${p.url}/init`, init)).toEqual({ status: 403, body: { error: "Cannot initialize the action more than once." } });
  });

  it("answers a request that is not a tswren payload with {error} as an application error, and marks the activation's end", async () => {
    const p = await runtimeProxy();
    const run = await postJson<ErrorResult>(`${p.url}/run`, activation(signed({ hello: "world" })));
    expect(run.status).toBe(200);
    expect(run.body.error).toMatch(/not a tswren invocation payload/);
    await p.waitForOutput("stdout", (t) => markerLines(t) === 1);
    await p.waitForOutput("stderr", (t) => markerLines(t) === 1);
  });

  it("answers a payload of another tswren version with {error} naming both versions and the deploy command", async () => {
    const p = await runtimeProxy();
    const job = await buildJob((x: number) => x, [1], { storage, overrides: { tswrenVersion: "0.0.9" } });
    const run = await postJson<ErrorResult>(`${p.url}/run`, activation(job.signed));
    expect(run.status).toBe(200);
    expect(run.body.error).toContain("0.0.9");
    expect(run.body.error).toContain("0.1.0");
    expect(run.body.error).toContain("tswren runtime deploy");
  });

  it("runs real calls: statuses, start keys and results in storage, logs in the statuses and the activation's stdout", async () => {
    const p = await runtimeProxy();
    const job = await buildJob((x: number) => { console.log(`item ${x}`); return x === 3 ? "y".repeat(20_000) : x + 7; }, [1, 2, 3], { storage, startMarkers: true });
    const run = await postJson<RunResult>(`${p.url}/run`, activation(job.signed, "act-42"));
    expect(run.status).toBe(200);
    expect(run.body).toEqual({ tswrenVersion: "0.1.0", nodeVersion: expect.stringMatching(/^v\d+\./), calls: ["00000", "00001", "00002"].map((callId) => ({ callId, ok: true })) });
    const statuses = await Promise.all(["00000", "00001", "00002"].map((id) => job.status(id)));
    expect(await Promise.all(statuses.map((s) => job.result(s)))).toEqual([8, 9, "y".repeat(20_000)]);
    expect(statuses[2]?.result?.kind).toBe("output");
    expect(statuses[0]?.logs).toBe("item 1\n");
    expect(statuses[0]?.workerId).toBe("openwhisk-act-42");
    expect(statuses[0]?.runtime).toEqual({ tswrenVersion: "0.1.0", nodeVersion: process.version });
    expect(await Promise.all(["00000", "00001", "00002"].map((id) => job.started(id)))).toEqual([true, true, true]);
    const out = await p.waitForOutput("stdout", (t) => markerLines(t) === 1);
    expect(out.indexOf("item 3\n")).toBeLessThan(out.indexOf(MARKER));
    await job.close();
  });

  it("reports a throwing call as ok: false with an error status, not as an activation error", async () => {
    const p = await runtimeProxy();
    const job = await buildJob((x: number) => { if (x === 2) throw new RangeError(`bad ${x}`); return x; }, [1, 2], { storage });
    const run = await postJson<RunResult>(`${p.url}/run`, activation(job.signed));
    expect(run.status).toBe(200);
    expect(run.body.calls).toEqual([{ callId: "00000", ok: true }, { callId: "00001", ok: false }]);
    const failed = await job.status("00001");
    expect(failed.error).toMatchObject({ kind: "exception", name: "RangeError", message: "bad 2" });
    expect(await job.started("00000")).toBe(false);
    await job.close();
  });

  it("exports every activation key but value as __OW_<KEY> and applies the /init env", async () => {
    const p = await start("action-proxy.mjs");
    const code = "function main(params) { const env = {}; for (const k of Object.keys(process.env)) if (k.startsWith('__OW_') || k === 'FROM_INIT') env[k] = process.env[k]; return { env, params }; }";
    expect((await postJson(`${p.url}/init`, { value: { name: "t", main: "main", code, binary: false, env: { FROM_INIT: "yes" } } })).status).toBe(200);
    const run = await postJson<{ env: Record<string, string>; params: unknown }>(`${p.url}/run`, activation({ n: 1 }, "act-7"));
    expect(run.status).toBe(200);
    expect(run.body.params).toEqual({ n: 1 });
    expect(run.body.env).toMatchObject({
      __OW_NAMESPACE: "guest", __OW_ACTION_NAME: "/guest/tswren/runtime", __OW_ACTIVATION_ID: "act-7", __OW_TRANSACTION_ID: "tx-1", __OW_API_KEY: "user:secret", FROM_INIT: "yes",
    });
    expect(run.body.env["__OW_DEADLINE"]).toMatch(/^\d+$/);
    expect(run.body.env["__OW_VALUE"]).toBeUndefined();
  });

  it("treats a throw as a developer error (502 {error}), marks the end, and refuses further runs", async () => {
    const p = await sourceProxy("exports.main = () => { throw new Error('boom'); };");
    const run = await postJson<ErrorResult>(`${p.url}/run`, activation({}));
    expect(run).toEqual({ status: 502, body: { error: "An error has occurred: boom" } });
    await p.waitForOutput("stderr", (t) => t.includes("Error: boom") && markerLines(t) === 1);
    expect((await postJson(`${p.url}/run`, activation({}))).status).toBe(403);
  });

  it("treats a rejected promise as an application error (200 {error}) and keeps the container", async () => {
    const p = await sourceProxy("exports.main = async () => { throw new TypeError('later'); };");
    const run = await postJson<{ error: { name: string; message: string } }>(`${p.url}/run`, activation({}));
    expect(run.status).toBe(200);
    expect(run.body.error).toMatchObject({ name: "TypeError", message: "later" });
    expect((await postJson(`${p.url}/run`, activation({}))).status).toBe(200);
  });

  it("treats a result that is not an object as a developer error", async () => {
    const p = await sourceProxy("function main() { return 42; }");
    expect(await postJson(`${p.url}/run`, activation({}))).toEqual({ status: 502, body: { error: "The action did not return a dictionary." } });
  });

  it("runs activations one at a time, and loads a zip with only index.js", async () => {
    const p = await start("action-proxy.mjs");
    const index = "let active = 0; exports.main = async () => { const peak = ++active; await new Promise((r) => setTimeout(r, 50)); active--; return { peak }; };";
    const zip = Buffer.from(zipSync({ "index.js": new TextEncoder().encode(index) })).toString("base64");
    expect((await postJson(`${p.url}/init`, { value: { name: "t", main: "main", code: zip, binary: true } })).status).toBe(200);
    const runs = await Promise.all([1, 2, 3].map(() => postJson<{ peak: number }>(`${p.url}/run`, activation({}))));
    expect(runs.map((r) => r.body.peak)).toEqual([1, 1, 1]);
    await p.waitForOutput("stdout", (t) => markerLines(t) === 3);
  });
});

/** A tiny stand-in for the OpenWhisk invoke API: answers 429 `throttle` times, then 202 (or 404 for `missing`). */
async function fakePlatform(throttle: number): Promise<{ server: Server; apihost: string; invoked: Array<{ auth: string; calls: string[] }> }> {
  const invoked: Array<{ auth: string; calls: string[] }> = [];
  let left = throttle;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const answer = (status: number, body: unknown): void => { res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body)); };
      if (req.url?.includes("/actions/missing")) return answer(404, { error: "The requested resource does not exist.", code: "x" });
      if (left-- > 0) return answer(429, { error: "Too many requests in the last minute (count: 121, allowed: 120).", code: "y" });
      // The remote invoker signs each group with the runtime's key, as the client does.
      const verified = verifyPayload(JSON.parse(Buffer.concat(chunks).toString("utf8")), [new SigningKey(TEST_SIGNING_KEY, "test")]);
      if (!verified.ok) return answer(401, { error: verified.reason });
      const params = JSON.parse(verified.body) as { calls: Array<{ callId: string }> };
      invoked.push({ auth: req.headers.authorization ?? "", calls: params.calls.map((c) => c.callId) });
      answer(202, { activationId: `act-${invoked.length}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { server, apihost: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, invoked };
}

describe("OpenWhisk action: remote invoker", () => {
  it("invokes the job's calls from inside the platform in groups, retrying 429s, and returns once all were accepted", async () => {
    const platform = await fakePlatform(2);
    const p = await runtimeProxy();
    const job = await buildJob((x: number) => x, [1, 2, 3, 4, 5], { storage });
    const request: RemoteInvokeRequest = {
      protocolVersion: 1, kind: "remote-invoke", payload: job.json, callsPerActivation: 2, concurrency: 2,
      platform: { apihost: platform.apihost, namespace: "_", action: "tswren/runtime_256", apiKey: "user:secret", insecure: false },
    };
    const run = await postJson<RemoteInvokeResult>(`${p.url}/run`, activation(signed(request)));
    expect(run.status).toBe(200);
    expect(run.body.remoteInvoke).toMatchObject({ calls: 5, activations: 3, throttled: 2, failedCallIds: [] });
    // One activation id per slice, so that the client can watch each of them.
    expect(run.body.remoteInvoke?.activationIds?.filter((id) => typeof id === "string")).toHaveLength(3);
    expect(platform.invoked.flatMap((i) => i.calls).sort()).toEqual(["00000", "00001", "00002", "00003", "00004"]);
    expect(platform.invoked.map((i) => i.calls.length).sort()).toEqual([1, 2, 2]);
    expect(platform.invoked[0]?.auth).toBe(`Basic ${Buffer.from("user:secret").toString("base64")}`);
    await job.close();
  });

  it("writes a failed status for each call it cannot invoke, so the client can retry them", async () => {
    const platform = await fakePlatform(0);
    const p = await runtimeProxy();
    const job = await buildJob((x: number) => x, [1, 2, 3], { storage });
    const request: RemoteInvokeRequest = {
      protocolVersion: 1, kind: "remote-invoke", payload: job.json, callsPerActivation: 2, concurrency: 4,
      platform: { apihost: platform.apihost, namespace: "_", action: "missing", apiKey: "user:secret", insecure: false },
    };
    const run = await postJson<RemoteInvokeResult>(`${p.url}/run`, activation(signed(request)));
    expect(run.body.remoteInvoke).toMatchObject({ activations: 0, failedCallIds: ["00000", "00001", "00002"] });
    const status = await job.status("00002");
    expect(status.ok).toBe(false);
    expect(status.error).toMatchObject({ kind: "lost", name: "RemoteInvokeError" });
    expect(status.error?.message).toContain("404");
    await job.close();
  });
});

interface KnativeAnswer { tswrenVersion: string; nodeVersion: string; statuses: CallStatusJson[] }

describe("Knative HTTP server", () => {
  it("answers health and metadata", async () => {
    const p = await start("http-server.mjs");
    expect(await (await fetch(`${p.url}/`)).json()).toEqual({ ok: true });
    expect(await (await fetch(`${p.url}/metadata`)).json()).toEqual({ tswrenVersion: "0.1.0", nodeVersion: process.version, runtime: "tswren-knative" });
    expect((await fetch(`${p.url}/nope`)).status).toBe(404);
  });

  it("runs a payload's calls and answers their statuses, from which the results are readable", async () => {
    const p = await start("http-server.mjs");
    const job = await buildJob((x: number) => { if (x < 0) throw new Error("negative"); return { doubled: x * 2, big: x === 3 ? new Float64Array(2000) : null }; }, [1, -1, 3], { storage, startMarkers: true });
    const answer = await postJson<KnativeAnswer>(`${p.url}/`, job.signed);
    expect(answer.status).toBe(200);
    expect(answer.body.tswrenVersion).toBe("0.1.0");
    const [first, second, third] = answer.body.statuses;
    expect(await job.result(first)).toEqual({ doubled: 2, big: null });
    expect(second).toMatchObject({ callId: "00001", ok: false, error: { name: "Error", message: "negative" } });
    expect(await job.result(third)).toEqual({ doubled: 6, big: new Float64Array(2000) });
    expect(third?.result?.kind).toBe("output");
    expect((await job.status("00000")).ok).toBe(true);
    expect(await job.started("00002")).toBe(true);
    await job.close();
  });

  it("answers a bad payload with 400 and another tswren version with 409, each as {error}", async () => {
    const p = await start("http-server.mjs");
    const bad = await postJson<ErrorResult>(`${p.url}/`, signed({ calls: "none" }));
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/not a tswren invocation payload/);
    const job = await buildJob((x: number) => x, [1], { storage, overrides: { tswrenVersion: "9.9.9" } });
    const old = await postJson<ErrorResult>(`${p.url}/`, job.signed);
    expect(old.status).toBe(409);
    expect(old.body.error).toMatch(/9\.9\.9.*0\.1\.0.*tswren runtime deploy/);
  });

  it("runs one payload at a time by default: the second waits for the first", async () => {
    const p = await start("http-server.mjs");
    const wait = async (ms: number) => { await new Promise((r) => setTimeout(r, ms)); return ms; };
    const [a, b] = await Promise.all([buildJob(wait, [300], { storage }), buildJob(wait, [300], { storage })]);
    const [ra, rb] = await Promise.all([postJson<KnativeAnswer>(`${p.url}/`, a.signed), postJson<KnativeAnswer>(`${p.url}/`, b.signed)]);
    const [sa, sb] = [ra.body.statuses[0].stats, rb.body.statuses[0].stats];
    const [first, second] = sa.workerStartMs! <= sb.workerStartMs! ? [sa, sb] : [sb, sa];
    expect(second.workerStartMs).toBeGreaterThanOrEqual(first.workerEndMs!);
  });

  it("with TSWREN_CONCURRENCY=2 runs two payloads at once, each call keeping its own logs", async () => {
    const p = await start("http-server.mjs", { TSWREN_CONCURRENCY: "2" });
    const wait = async (ms: number) => { console.log(`start ${ms}`); await new Promise((r) => setTimeout(r, ms)); console.log(`end ${ms}`); return ms; };
    const [a, b] = await Promise.all([buildJob(wait, [300], { storage }), buildJob(wait, [301], { storage })]);
    const [ra, rb] = await Promise.all([postJson<KnativeAnswer>(`${p.url}/`, a.signed), postJson<KnativeAnswer>(`${p.url}/`, b.signed)]);
    const [sa, sb] = [ra.body.statuses[0], rb.body.statuses[0]];
    expect(sb.stats.workerStartMs).toBeLessThan(sa.stats.workerEndMs!);
    expect(sa.stats.workerStartMs).toBeLessThan(sb.stats.workerEndMs!);
    expect([sa.logs, sb.logs]).toEqual(["start 300\nend 300\n", "start 301\nend 301\n"]);
  });

  it("on SIGTERM finishes the request in flight, then exits 0 and takes no new connections", async () => {
    const p = await start("http-server.mjs");
    const job = await buildJob(async (x: number) => { console.log("call started"); await new Promise((r) => setTimeout(r, 300)); return x; }, [5], { storage });
    const inFlight = postJson<KnativeAnswer>(`${p.url}/`, job.signed);
    await p.waitForOutput("stdout", (t) => t.includes("call started"));
    p.child.kill("SIGTERM");
    const answer = await inFlight;
    expect(answer.status).toBe(200);
    expect(await job.result(answer.body.statuses[0])).toBe(5);
    expect(await p.exited).toBe(0);
    await expect(fetch(`${p.url}/`)).rejects.toThrow();
    await job.close();
  });
});
