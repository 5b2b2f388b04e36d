/**
 * Only the owner's code runs (issue 14), against the real runtimes: the OpenWhisk action proxy
 * loaded with the real action zip, the OpenWhisk emulator running that action, the Knative HTTP
 * server, and the localhost worker pool. An unsigned, forged, re-bodied or expired invocation is
 * refused with 401 and nothing runs or is written; a bundle changed in storage after the client
 * uploaded it is refused with TSWREN_BUNDLE_MISMATCH on every backend and its code never runs.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import openwhisk from "openwhisk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ComputeBackend } from "../../kernel-lib/src/compute/backend.js";
import { KnativeCompute } from "../../kernel-lib/src/compute/knative.js";
import { LocalhostCompute } from "../../kernel-lib/src/compute/localhost/index.js";
import { OpenWhiskCompute } from "../../kernel-lib/src/compute/openwhisk/index.js";
import { validateSection } from "../../kernel-lib/src/config/validate.js";
import { captureFunction } from "../../kernel-lib/src/job/capture/index.js";
import { SigningKey, generateSigningKey, signPayload, type SignedRequest } from "../../kernel-lib/src/security/signing.js";
import { TSWREN_VERSION } from "../../kernel-lib/src/version.js";
import { startOpenWhiskEmulator, type OpenWhiskEmulator } from "../emulators/openwhisk/index.js";
import { tempDir } from "../helpers/executor.js";
import { waitForStatuses } from "../helpers/job-payload.js";
import { buildJob, localStorageRef, type TestJob } from "../helpers/payloads.js";
import { RUNTIME_DIST, postJson, startRuntimeProcess, type RuntimeProcess } from "../helpers/runtime-process.js";
import { TEST_SIGNING_KEY, signed } from "../helpers/signing.js";

const root = tempDir("security-invocation");
const storage = localStorageRef(root);
/** The attacker's code writes this file: it must never appear. */
const MARKER = path.join(root, "attacker-code-ran");
const actionZip = readFileSync(path.join(RUNTIME_DIST, "openwhisk-action.zip")).toString("base64");

/** What an attacker wants to run: it leaves the file `marker` behind. */
function attackerCodeWriting(marker: string): (x: number) => number {
  return (x: number): number => {
    const fs = (process as unknown as { getBuiltinModule(name: string): typeof import("node:fs") }).getBuiltinModule("node:fs");
    fs.writeFileSync(marker, "ran");
    return x;
  };
}
const attackerCode = attackerCodeWriting(MARKER);
const ownerCode = (x: number): number => x + 7;
/** The owner's code with its own content hash, so no warm worker has it cached yet. */
function freshOwnerCode(salt: string): (x: number) => number {
  return (x: number): number => (salt === "" ? x : x + 7);
}

/** Every file under the storage root with its size and mtime: "nothing written" compares two of these. */
function snapshot(dir = root): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(`${full}/`, ...snapshot(full));
    else if (entry.name !== ".tmp") out.push(`${full} ${statSync(full).size} ${statSync(full).mtimeMs}`);
  }
  return out.filter((line) => !line.includes(`${path.sep}.tmp${path.sep}`)).sort();
}

/** The ways a request can lack a valid signature, each built from a real job's payload. */
function badRequests(job: TestJob, other: TestJob): Array<[string, unknown]> {
  const attacker = new SigningKey(generateSigningKey(), "attacker");
  const good = job.signed;
  return [
    ["the bare payload (unsigned)", job.json],
    ["a payload signed with another key", signPayload(JSON.stringify(job.json), attacker)],
    ["the deployment's key id with a forged signature", { ...good, signature: "0".repeat(64) } satisfies SignedRequest],
    ["a valid signature over another body", { ...good, body: JSON.stringify(other.json) } satisfies SignedRequest],
    ["a signature that expired", signPayload(JSON.stringify(job.json), new SigningKey(TEST_SIGNING_KEY, "t"), { ttlMs: -1 })],
  ];
}

const processes: RuntimeProcess[] = [];
let ow: OpenWhiskEmulator;
const backends: ComputeBackend[] = [];

beforeAll(async () => {
  ow = await startOpenWhiskEmulator({ invocationsPerMinute: 100_000, containerEnv: { TSWREN_LOCALHOST_STORAGE_ROOT: root } });
});

afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
  for (const p of processes) p.kill();
  await ow.stop();
});

async function start(file: "action-proxy.mjs" | "http-server.mjs"): Promise<RuntimeProcess> {
  const p = await startRuntimeProcess(file, { TSWREN_LOCALHOST_STORAGE_ROOT: root });
  processes.push(p);
  return p;
}

/** Two jobs of the attacker's code, uploaded as the owner's client would upload them. */
async function attackerJobs(): Promise<[TestJob, TestJob]> {
  return [await buildJob(attackerCode, [1, 2], { storage, startMarkers: true }), await buildJob(attackerCode, [3], { storage, startMarkers: true })];
}

describe("a runtime refuses every invocation not signed with its deployment's key, before anything runs or is written", () => {
  it("the Knative HTTP server answers 401 and writes nothing", async () => {
    const p = await start("http-server.mjs");
    const [job, other] = await attackerJobs();
    const before = snapshot();
    for (const [what, body] of badRequests(job, other)) {
      const answer = await postJson<{ error: string }>(`${p.url}/`, body);
      expect({ what, status: answer.status }).toEqual({ what, status: 401 });
      expect(answer.body.error).toMatch(/unauthorized/);
    }
    expect(snapshot()).toEqual(before);
    expect(existsSync(MARKER)).toBe(false);
  });

  it("the OpenWhisk action (real zip in the action proxy) answers {error, statusCode: 401} and writes nothing", async () => {
    const p = await start("action-proxy.mjs");
    expect((await postJson(`${p.url}/init`, { value: { name: "tswren-runtime", main: "main", code: actionZip, binary: true } })).status).toBe(200);
    const [job, other] = await attackerJobs();
    const remoteInvoke = { protocolVersion: 1, kind: "remote-invoke", payload: job.json, callsPerActivation: 1, concurrency: 1, platform: { apihost: ow.apihost, namespace: "_", action: "x", apiKey: ow.apiKey, insecure: false } };
    const before = snapshot();
    for (const [what, value] of [...badRequests(job, other), ["an unsigned remote-invoke request", remoteInvoke] as [string, unknown]]) {
      const run = await postJson<{ error: string; statusCode: number }>(`${p.url}/run`, { value, activation_id: "a1", deadline: String(Date.now() + 60_000) });
      expect({ what, statusCode: run.body.statusCode }).toEqual({ what, statusCode: 401 });
      expect(run.body.error).toMatch(/unauthorized/);
    }
    expect(snapshot()).toEqual(before);
    expect(existsSync(MARKER)).toBe(false);
    expect(ow.stats.activationsCompleted).toBe(0);
  });

  it("the OpenWhisk emulator's deployed action refuses an unsigned or forged blocking invoke and writes nothing", async () => {
    const b = new OpenWhiskCompute({ section: "openwhisk", config: validateSection("openwhisk", { endpoint: ow.apihost, api_key: ow.apiKey, namespace: ow.namespace, runtime_timeout: 60, signing_key: TEST_SIGNING_KEY }, "test") }, { retrySleepsS: [0.02] });
    backends.push(b);
    const good = await buildJob(ownerCode, [1], { storage });
    await b.invoke(good.payload);
    expect((await waitForStatuses(good))[0]?.ok).toBe(true);
    const client = openwhisk({ apihost: ow.apihost, api_key: ow.apiKey, namespace: ow.namespace });
    const [job, other] = await attackerJobs();
    const before = snapshot();
    for (const [what, params] of badRequests(job, other)) {
      const activation = (await client.actions.invoke({ name: `tswren/tswren-runtime-${TSWREN_VERSION}-256mb`, params: params as Record<string, unknown>, blocking: true }).catch((err: unknown) => (err as { error?: unknown }).error)) as { response?: { success?: boolean; result?: { error?: string } } };
      // The platform keeps only the `error` of an application error (the action returned it with statusCode 401).
      expect({ what, success: activation.response?.success, error: activation.response?.result?.error }).toEqual({ what, success: false, error: expect.stringMatching(/^tswren runtime: unauthorized: /) });
    }
    expect(snapshot()).toEqual(before);
    expect(existsSync(MARKER)).toBe(false);
  });
});

/** Build a job of the owner's code, then replace its stored bundle with the attacker's code (same key). */
async function tamperedJob(executorId: string): Promise<TestJob> {
  const job = await buildJob(freshOwnerCode(executorId), [1, 2], { storage, executorId, jobId: "M000" });
  const attacker = await captureFunction(attackerCode, { capture: {}, what: "map function" });
  await job.storage.put(job.ref.bucket, job.payload.funcKey, attacker.bundleBytes);
  return job;
}

async function expectRefusedBundle(job: TestJob): Promise<void> {
  const statuses = await waitForStatuses(job);
  for (const status of statuses) {
    expect(status.ok).toBe(false);
    expect(status.error?.kind).toBe("bundle");
    expect(status.error?.message).toContain(job.payload.funcKey);
    expect(status.error?.message).toMatch(/does not match the hash .* in the signed payload/);
  }
  expect(existsSync(MARKER)).toBe(false);
}

describe("a function bundle changed in storage after upload is refused on every backend and never runs", () => {
  const fresh = (name: string): string => `${Buffer.from(name).toString("hex").slice(0, 6)}-${Date.now() % 100_000}`;

  it("localhost worker processes", async () => {
    const b = new LocalhostCompute(validateSection("localhost", { worker_processes: 1 }, "test"));
    backends.push(b);
    const job = await tamperedJob(fresh("lo"));
    await b.invoke(job.payload);
    await expectRefusedBundle(job);
  });

  it("OpenWhisk (the emulator running the real action)", async () => {
    const b = new OpenWhiskCompute({ section: "openwhisk", config: validateSection("openwhisk", { endpoint: ow.apihost, api_key: ow.apiKey, namespace: ow.namespace, runtime_timeout: 60, signing_key: TEST_SIGNING_KEY }, "test") }, { retrySleepsS: [0.02] });
    backends.push(b);
    const job = await tamperedJob(fresh("ow"));
    await b.invoke(job.payload);
    await expectRefusedBundle(job);
  });

  it("Knative (the runtime's HTTP server)", async () => {
    const p = await start("http-server.mjs");
    const b = new KnativeCompute(validateSection("knative", { url: `${p.url}/`, runtime_timeout: 60, signing_key: TEST_SIGNING_KEY }, "test"));
    backends.push(b);
    const job = await tamperedJob(fresh("kn"));
    await b.invoke(job.payload);
    await expectRefusedBundle(job);
  });

  it("the same attacker code, when signed and untampered, does run and leave its file (the checks above can fail)", async () => {
    const p = await start("http-server.mjs");
    const marker = path.join(root, "signed-code-ran");
    const job = await buildJob(attackerCodeWriting(marker), [1], { storage });
    expect((await postJson(`${p.url}/`, job.signed)).status).toBe(200);
    expect(readFileSync(marker, "utf8")).toBe("ran");
  });

  it("an untampered bundle of the same owner still runs (the check does not refuse good code)", async () => {
    const p = await start("http-server.mjs");
    const job = await buildJob(ownerCode, [5], { storage });
    const answer = await postJson<{ statuses: Array<{ ok: boolean }> }>(`${p.url}/`, signed(job.json));
    expect(answer.status).toBe(200);
    expect(await job.result(await job.status("00000"))).toBe(12);
  });
});
