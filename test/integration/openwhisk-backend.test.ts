/**
 * The OpenWhisk compute backend against the OpenWhisk REST emulator (test/emulators/openwhisk),
 * which runs the project's real runtime action zip through /init and /run in child processes.
 * Calls use localhost storage in a temporary folder, so their statuses can be read back.
 */
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import type { AddressInfo } from "node:net";
import openwhisk from "openwhisk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../kernel-lib/src/cli.js";
import { OpenWhiskCompute, type OpenWhiskComputeOptions } from "../../kernel-lib/src/compute/openwhisk/index.js";
import { validateSection } from "../../kernel-lib/src/config/validate.js";
import { ErrorCodes } from "../../kernel-lib/src/errors.js";
import { deserializeValue } from "../../kernel-lib/src/serialize.js";
import { TSWREN_VERSION } from "../../kernel-lib/src/version.js";
import { actionZip, startOpenWhiskEmulator, type OpenWhiskEmulator } from "../emulators/openwhisk/index.js";
import { tempDir } from "../helpers/executor.js";
import { startMarkers, testJob, waitForStatuses } from "../helpers/job-payload.js";
import { caught } from "../helpers/caught.js";
import { TEST_SIGNING_KEY } from "../helpers/signing.js";


const ACTION = (mb: number): string => `tswren/tswren-runtime-${TSWREN_VERSION}-${mb}mb`;
const FAST: OpenWhiskComputeOptions = { retrySleepsS: [0.02, 0.05], networkRetryBaseMs: 10 };

let ow: OpenWhiskEmulator;
const root = tempDir("ow-backend");
const backends: OpenWhiskCompute[] = [];
let jobs = 0;

function backend(section: Record<string, unknown> = {}, options: OpenWhiskComputeOptions = FAST): OpenWhiskCompute {
  const config = validateSection("openwhisk", { endpoint: ow.apihost, api_key: ow.apiKey, namespace: ow.namespace, runtime_timeout: 60, signing_key: TEST_SIGNING_KEY, ...section }, "test");
  const b = new OpenWhiskCompute({ section: "openwhisk", config }, options);
  backends.push(b);
  return b;
}

function rawClient(): ReturnType<typeof openwhisk> {
  return openwhisk({ apihost: ow.apihost, api_key: ow.apiKey, namespace: ow.namespace });
}

function nextIds(): { executorId: string; jobId: string } {
  return { executorId: "0abcde-0", jobId: `M${String(jobs++).padStart(3, "0")}` };
}

const addSeven = (x: number): number => x + 7;

beforeAll(async () => {
  ow = await startOpenWhiskEmulator({ invocationsPerMinute: 100_000, containerEnv: { TSWREN_LOCALHOST_STORAGE_ROOT: tmpdir() } });
});

afterAll(async () => {
  await Promise.all(backends.map((b) => b.close()));
  await ow.stop();
});

describe("OpenWhisk backend on the emulator", () => {
  it("deploys the runtime action on first use and runs calls (one activation per call by default)", async () => {
    const b = backend();
    const job = await testJob(root, nextIds(), addSeven, [1, 2, 3]);
    const receipts = await Promise.all(job.payload.calls.map((c) => b.invoke({ ...job.payload, calls: [c] })));
    expect(new Set(receipts.map((r) => r.activationId)).size).toBe(3);
    const statuses = await waitForStatuses(job);
    expect(statuses.map((s) => s.ok)).toEqual([true, true, true]);
    expect(statuses.map((s) => s.result?.kind === "inline" && deserializeValue(s.result.bytes))).toEqual([8, 9, 10]);
    expect((await startMarkers(job)).length).toBe(3);
    const action = await rawClient().actions.get({ name: ACTION(256) });
    expect(action.annotations).toContainEqual({ key: "tswren-version", value: TSWREN_VERSION });
    expect(action.limits).toMatchObject({ memory: 256, timeout: 60_000 });
    expect(action.exec).toMatchObject({ kind: "nodejs:20", binary: true });
  });

  it("batches `chunksize` calls per activation", async () => {
    const b = backend({ chunksize: 3 });
    expect(b.callsPerInvocation).toBe(3);
    const job = await testJob(root, nextIds(), addSeven, [0, 1, 2, 3, 4, 5, 6]);
    const before = ow.stats.invocations;
    for (let i = 0; i < job.payload.calls.length; i += b.callsPerInvocation) {
      await b.invoke({ ...job.payload, calls: job.payload.calls.slice(i, i + b.callsPerInvocation) });
    }
    const statuses = await waitForStatuses(job);
    expect(ow.stats.invocations - before).toBe(3);
    const perActivation = new Map<string, number>();
    for (const s of statuses) perActivation.set(s.workerId, (perActivation.get(s.workerId) ?? 0) + 1);
    expect([...perActivation.values()].sort()).toEqual([1, 3, 3]);
  });

  it("backs off and re-queues on 429 until the platform accepts", async () => {
    const b = backend();
    const job = await testJob(root, nextIds(), addSeven, [10]);
    await b.runtime.ensure(256);
    ow.setFaults({ sequence: ["429", "429", "429"] });
    const before = ow.stats.faults["429"];
    await b.invoke(job.payload);
    expect(ow.stats.faults["429"] - before).toBe(3);
    const [status] = await waitForStatuses(job);
    expect(status?.ok).toBe(true);
    ow.setFaults({});
  });

  it("gives up with TSWREN_COMPUTE_THROTTLED when the platform throttles for too long", async () => {
    const b = backend({}, { ...FAST, throttleGiveUpMs: 300 });
    const job = await testJob(root, nextIds(), addSeven, [1]);
    await b.runtime.ensure(256);
    ow.setFaults({ random429Rate: 1 });
    try {
      const err = await caught(b.invoke(job.payload));
      expect(err.code).toBe(ErrorCodes.COMPUTE_THROTTLED);
      expect(err.message).toMatch(/kept throttling.*HTTP 429/);
    } finally {
      ow.setFaults({});
    }
  });

  it("retries dropped connections a bounded number of times", async () => {
    const b = backend();
    const job = await testJob(root, nextIds(), addSeven, [5]);
    await b.runtime.ensure(256);
    ow.setFaults({ sequence: ["drop", "drop"] });
    await b.invoke(job.payload);
    const [status] = await waitForStatuses(job);
    expect(status?.ok).toBe(true);
    ow.setFaults({ sequence: ["drop", "drop", "drop"] });
    const few = backend({}, { ...FAST, networkRetries: 2 });
    await few.runtime.ensure(256);
    const err = await caught(few.invoke(job.payload));
    expect(err.code).toBe(ErrorCodes.COMPUTE_UNREACHABLE);
    ow.setFaults({});
  });

  it("deploys the action again when an invoke finds it gone (404) and retries", async () => {
    const b = backend({ runtime_memory: 512 });
    await b.runtime.ensure(512);
    await rawClient().actions.delete({ name: ACTION(512) });
    const job = await testJob(root, nextIds(), addSeven, [1], 512);
    await b.invoke(job.payload);
    const [status] = await waitForStatuses(job);
    expect(status?.ok).toBe(true);
    await expect(rawClient().actions.get({ name: ACTION(512) })).resolves.toMatchObject({ name: `tswren-runtime-${TSWREN_VERSION}-512mb` });
  });

  it("reports refused credentials naming openwhisk.api_key, never the key", async () => {
    const wrong = "23bc46b1-71f6-4ed5-8c54-816aa4f8c502:notTheRightSecretAtAll0123456789";
    const b = backend({ api_key: wrong });
    const job = await testJob(root, nextIds(), addSeven, [1]);
    const err = await caught(b.invoke(job.payload));
    expect(err.code).toBe(ErrorCodes.COMPUTE_CREDENTIALS);
    expect(err.message).toContain("openwhisk.api_key");
    expect(err.message).toContain("HTTP 401");
    expect(err.message).not.toContain("notTheRightSecret");
    expect(err.message).not.toContain(Buffer.from(wrong).toString("base64"));
  });

  it("refuses a deployed runtime of another tswren version, naming both versions and the deploy command", async () => {
    const client = rawClient();
    await client.packages.update({ name: "old" });
    const code = actionZip({ "index.js": "exports.main = () => ({});" });
    await client.actions.update({
      name: "old/tswren-runtime-256mb",
      action: { exec: { kind: "nodejs:20", code, binary: true }, annotations: [{ key: "tswren-version", value: "0.0.1" }] },
    });
    const b = backend({ runtime: "old/tswren-runtime" });
    const job = await testJob(root, nextIds(), addSeven, [1]);
    const err = await caught(b.invoke(job.payload));
    expect(err.code).toBe(ErrorCodes.RUNTIME_VERSION);
    expect(err.message).toContain(`tswren ${TSWREN_VERSION}`);
    expect(err.message).toContain("tswren 0.0.1");
    expect(err.message).toContain("tswren runtime deploy");
  });

  it("the remote invoker sends one activation that fans the job out from inside the platform", async () => {
    const b = backend({ chunksize: 2 });
    const job = await testJob(root, nextIds(), addSeven, [1, 2, 3, 4, 5]);
    await b.runtime.ensure(256);
    const before = ow.stats.invocations;
    await b.invokeRemote(job.payload, 2);
    const statuses = await waitForStatuses(job);
    expect(statuses.map((s) => s.result?.kind === "inline" && deserializeValue(s.result.bytes))).toEqual([8, 9, 10, 11, 12]);
    expect(ow.stats.invocations - before).toBe(1 + 3);
  });

  it("the remote invoker falls back to client-side invokes when the job is too large for one request", async () => {
    const b = backend({}, { ...FAST, remoteInvokeLimitBytes: 200 });
    const job = await testJob(root, nextIds(), addSeven, [1, 2, 3, 4, 5]);
    await b.runtime.ensure(256);
    const before = ow.stats.invocations;
    await b.invokeRemote(job.payload, 2);
    const statuses = await waitForStatuses(job);
    expect(statuses.every((s) => s.ok)).toBe(true);
    expect(ow.stats.invocations - before).toBe(3);
  });

  it("cancelPending drops invocations not sent yet; close refuses new ones", async () => {
    const b = backend({ invoke_pool_threads: 1 });
    const job = await testJob(root, nextIds(), addSeven, [1, 2, 3]);
    await b.runtime.ensure(256);
    ow.setFaults({ sequence: ["429"] });
    const sent = job.payload.calls.map((c) => b.invoke({ ...job.payload, calls: [c] }));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    const dropped = b.cancelPending(job.payload.executorId);
    const outcomes = await Promise.allSettled(sent);
    ow.setFaults({});
    expect(dropped).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o.status === "rejected").length).toBe(dropped);
    await b.close();
    expect((await caught(b.invoke(job.payload))).code).toBe(ErrorCodes.EXECUTOR_CLOSED);
  });
});

describe("ibm_cf with an IAM API key", () => {
  let iam: Server;
  let iamUrl = "";
  let tokenRequests = 0;
  let bearerOw: OpenWhiskEmulator;

  beforeAll(async () => {
    bearerOw = await startOpenWhiskEmulator({ bearerToken: "iam-token-1", invocationsPerMinute: 100_000, containerEnv: { TSWREN_LOCALHOST_STORAGE_ROOT: tmpdir() } });
    iam = createServer((req, res) => {
      tokenRequests++;
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString()));
      req.on("end", () => {
        const ok = new URLSearchParams(body).get("apikey") === "good-iam-key";
        res.writeHead(ok ? 200 : 400, { "content-type": "application/json" });
        res.end(JSON.stringify(ok ? { access_token: "iam-token-1", expires_in: 3600 } : { errorMessage: "Provided API key could not be found." }));
      });
    });
    await new Promise<void>((resolve) => iam.listen(0, "127.0.0.1", resolve));
    iamUrl = `http://127.0.0.1:${(iam.address() as AddressInfo).port}/identity/token`;
  });

  afterAll(async () => {
    await bearerOw.stop();
    await new Promise((resolve) => iam.close(resolve));
  });

  it("authenticates with a Bearer token from IAM, fetched once and reused", async () => {
    const config = validateSection("ibm_cf", { endpoint: bearerOw.apihost, iam_api_key: "good-iam-key", namespace_id: bearerOw.namespace, runtime_timeout: 60, signing_key: TEST_SIGNING_KEY }, "test");
    const b = new OpenWhiskCompute({ section: "ibm_cf", config }, { ...FAST, iamTokenUrl: iamUrl });
    backends.push(b);
    expect(b.name).toBe("ibm_cf");
    const job = await testJob(root, nextIds(), addSeven, [1, 2]);
    await Promise.all(job.payload.calls.map((c) => b.invoke({ ...job.payload, calls: [c] })));
    expect((await waitForStatuses(job)).every((s) => s.ok)).toBe(true);
    expect(tokenRequests).toBe(1);
  });

  it("a refused IAM key is a credentials error naming ibm_cf.iam_api_key", async () => {
    const config = validateSection("ibm_cf", { endpoint: bearerOw.apihost, iam_api_key: "bad-iam-key-value" }, "test");
    const b = new OpenWhiskCompute({ section: "ibm_cf", config }, { ...FAST, iamTokenUrl: iamUrl });
    backends.push(b);
    const job = await testJob(root, nextIds(), addSeven, [1]);
    const err = await caught(b.invoke(job.payload));
    expect(err.code).toBe(ErrorCodes.COMPUTE_CREDENTIALS);
    expect(err.message).toContain("ibm_cf.iam_api_key");
    expect(err.message).not.toContain("bad-iam-key-value");
  });
});

describe("tswren runtime deploy|list|delete", () => {
  async function cli(args: string[]): Promise<{ code: number; lines: string[] }> {
    const lines: string[] = [];
    const saved = process.env["TSWREN_CONFIG"];
    process.env["TSWREN_CONFIG"] = JSON.stringify({
      tswren: { backend: "openwhisk" },
      openwhisk: { endpoint: ow.apihost, api_key: ow.apiKey, namespace: ow.namespace, signing_key: TEST_SIGNING_KEY },
      localhost_storage: { storage_root: root },
    });
    try {
      return { code: await main(args, (l) => lines.push(l)), lines };
    } finally {
      if (saved === undefined) delete process.env["TSWREN_CONFIG"];
      else process.env["TSWREN_CONFIG"] = saved;
    }
  }

  it("deploys one action per memory size, lists them with their versions, and deletes them", async () => {
    const deployed = await cli(["runtime", "deploy", "--memory", "1024"]);
    expect(deployed.code).toBe(0);
    expect(deployed.lines.join("\n")).toContain(`deployed ${ACTION(1024)} (tswren ${TSWREN_VERSION}, nodejs:20, 1024 MB`);
    const listed = await cli(["runtime", "list"]);
    expect(listed.lines).toContain(`${ACTION(1024)}\t1024 MB\ttswren ${TSWREN_VERSION}`);
    const one = await cli(["runtime", "delete", "--memory", "1024"]);
    expect(one.lines).toEqual([`deleted ${ACTION(1024)}`]);
    await cli(["runtime", "deploy", "--memory", "2048"]);
    const all = await cli(["runtime", "delete"]);
    expect(all.lines).toContain(`deleted ${ACTION(2048)}`);
    expect((await cli(["runtime", "list"])).lines.join("\n")).not.toContain(`tswren-runtime-${TSWREN_VERSION}`);
  });

  it("`tswren runtime deploy` on a backend without a deployable runtime is a clear error", async () => {
    const written: string[] = [];
    const saved = process.stderr.write.bind(process.stderr);
    process.stderr.write = ((chunk: string) => written.push(chunk) > 0);
    try {
      expect((await cli(["runtime", "deploy", "--backend", "localhost"])).code).toBe(1);
      expect((await cli(["runtime", "deploy", "--memory", "64"])).code).toBe(1);
    } finally {
      process.stderr.write = saved;
    }
    expect(written[0]).toMatch(/TSWREN_BAD_OPTION: tswren runtime deploy needs a backend that deploys its tswren runtime, but the backend is localhost/);
    expect(written[1]).toMatch(/--memory must be an integer number of MB from 128 to 2048; got "64"/);
  });

  it("`tswren logs <executorId-jobId>` prints each call's logs from its status", async () => {
    const b = backend();
    const ids = nextIds();
    const job = await testJob(root, ids, (x: number) => { console.log(`hello from call with ${x}`); return x; }, [41, 42]);
    await Promise.all(job.payload.calls.map((c) => b.invoke({ ...job.payload, calls: [c] })));
    await waitForStatuses(job);
    const out = await cli(["logs", `${ids.executorId}-${ids.jobId}`]);
    expect(out.code).toBe(0);
    const text = out.lines.join("\n");
    expect(text).toMatch(/--- call 00000 \(attempt 1, ok, worker openwhisk-\S+\) ---\n.*hello from call with 41/);
    expect(text).toContain("hello from call with 42");
  });
});

