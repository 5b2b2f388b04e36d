/**
 * The OpenWhisk REST emulator, driven by the real `openwhisk` npm client, with activations run by
 * the fixture action proxy in child processes. The project's runtime runs behind the same emulator
 * in the backend's own tests; here the emulator's platform behaviour is under test.
 */
import { existsSync } from "node:fs";
import openwhisk from "openwhisk";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  actionZip,
  DEFAULT_PROXY_PATH,
  END_MARKER,
  FIXTURE_PROXY_PATH,
  startOpenWhiskEmulator,
  type ActivationRecord,
  type OpenWhiskEmulator,
  type OpenWhiskEmulatorOptions,
} from "../emulators/openwhisk/index.js";

/** A test action: `params.mode` picks what it does; the default echoes its context. */
const PROBE_SOURCE = `
function main(params) {
  switch (params.mode) {
    case "throw": throw new Error("thrown on purpose");
    case "reject": return Promise.reject(new Error("rejected on purpose"));
    case "exit": process.exit(3);
    case "hang": return new Promise(() => setInterval(() => {}, 1000));
    case "log":
      for (const line of params.lines) console.log(line);
      console.error("to stderr");
      return { logged: params.lines.length };
    default:
      return { echo: params, pid: process.pid, activationId: process.env.__OW_ACTIVATION_ID,
        actionName: process.env.__OW_ACTION_NAME, apiHost: process.env.__OW_API_HOST,
        hasKey: typeof process.env.__OW_API_KEY === "string", deadline: Number(process.env.__OW_DEADLINE) };
  }
}
exports.main = main;
`;
const PROBE_ZIP = actionZip({ "lib/probe.js": PROBE_SOURCE, "package.json": JSON.stringify({ main: "lib/probe.js" }) });
const probeExec = { kind: "nodejs:20", code: PROBE_ZIP, binary: true };

type Client = ReturnType<typeof openwhisk>;
interface ClientError {
  message: string;
  statusCode?: number;
  error?: unknown;
}

/** Start an emulator with the fixture proxy and a client for it; stopped after the file. */
async function emulator(options: OpenWhiskEmulatorOptions = {}): Promise<{ ow: OpenWhiskEmulator; client: Client }> {
  const ow = await startOpenWhiskEmulator({ proxyPath: FIXTURE_PROXY_PATH, maxContainers: 4, ...options });
  stopLater.push(ow);
  return { ow, client: openwhisk({ apihost: ow.apihost, api_key: ow.apiKey, namespace: ow.namespace }) };
}
const stopLater: OpenWhiskEmulator[] = [];
afterAll(() => Promise.all(stopLater.map((ow) => ow.stop())));

/** The rejection of a client call (fails the test if it resolved). */
async function failure(call: Promise<unknown>): Promise<ClientError> {
  const outcome = await call.then(
    () => undefined,
    (err: unknown) => err as ClientError,
  );
  if (outcome === undefined) throw new Error("expected the call to fail");
  return outcome;
}

/** A blocking invoke's activation record, whether the activation succeeded (200) or not (502). */
async function invokeBlocking(client: Client, name: string, params: Record<string, unknown> = {}): Promise<ActivationRecord> {
  try {
    return (await client.actions.invoke({ name, params, blocking: true })) as unknown as ActivationRecord;
  } catch (err) {
    const e = err as ClientError;
    if (e.statusCode === 502) return e.error as ActivationRecord;
    throw err;
  }
}

/** Poll `probe` until it gives a value, at most `timeoutMs`. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const resultOf = (record: ActivationRecord): Record<string, unknown> => record.response.result;

describe("entities through the openwhisk client", () => {
  let client: Client;
  beforeAll(async () => ({ client } = await emulator()));

  it("creates, reads, updates (bumping the version), lists and deletes actions", async () => {
    const created = await client.actions.create({ name: "crud", action: { exec: probeExec, limits: { timeout: 5000, memory: 128 } } });
    expect(created).toMatchObject({ name: "crud", version: "0.0.1", limits: { timeout: 5000, memory: 128, concurrency: 1 } });
    const got = await client.actions.get({ name: "crud" });
    expect(got.exec).toMatchObject({ kind: "nodejs:20", binary: true, code: PROBE_ZIP });
    const updated = await client.actions.update({ name: "crud", action: Buffer.from(PROBE_ZIP, "base64"), kind: "nodejs:20", params: { a: 1 } });
    expect(updated).toMatchObject({ version: "0.0.2", parameters: [{ key: "a", value: 1 }], limits: { timeout: 5000 } });
    await client.actions.create({ name: "crud-2", action: { exec: probeExec } });
    const names = (await client.actions.list()).map((a) => a.name);
    expect(names).toEqual(expect.arrayContaining(["crud", "crud-2"]));
    expect(await client.actions.list({ limit: 1, skip: 0 })).toHaveLength(1);
    await client.actions.delete({ name: "crud" });
    expect((await failure(client.actions.get({ name: "crud" }))).statusCode).toBe(404);
  });

  it("refuses to create an existing action without overwrite (409 resource already exists)", async () => {
    await client.actions.create({ name: "twice", action: { exec: probeExec } });
    const err = await failure(client.actions.create({ name: "twice", action: { exec: probeExec } }));
    expect(err.statusCode).toBe(409);
    expect(err.message).toContain("resource already exists");
  });

  it("keeps packages with their actions and refuses to delete a non-empty package", async () => {
    await client.packages.create({ name: "tools", package: { parameters: [{ key: "fromPkg", value: "yes" }] } });
    await client.actions.create({ name: "tools/probe", action: { exec: probeExec } });
    const pkg = await client.packages.get({ name: "tools" });
    expect(pkg.actions?.map((a) => a.name)).toEqual(["probe"]);
    expect((await client.packages.list()).map((p) => p.name)).toContain("tools");
    const record = await invokeBlocking(client, "tools/probe", { x: 1 });
    expect(resultOf(record)["echo"]).toEqual({ fromPkg: "yes", x: 1 });
    expect(resultOf(record)["actionName"]).toBe(`/guest/tools/probe`);
    expect((await failure(client.packages.delete({ name: "tools" }))).statusCode).toBe(409);
    await client.actions.delete({ name: "tools/probe" });
    await client.packages.delete({ name: "tools" });
    expect((await failure(client.packages.get({ name: "tools" }))).statusCode).toBe(404);
  });
});

describe("invocations", () => {
  let ow: OpenWhiskEmulator;
  let client: Client;
  beforeAll(async () => {
    ({ ow, client } = await emulator({ invocationsPerMinute: 100_000 }));
    await client.actions.create({ name: "probe", action: { exec: probeExec } });
  });
  afterEach(() => ow.setFaults({}));

  it("answers a non-blocking invoke with 202 {activationId} and serves the record, result and logs once done", async () => {
    const { activationId } = await client.actions.invoke({ name: "probe", params: { hello: "world" } });
    expect(activationId).toMatch(/^[0-9a-f]{32}$/);
    const record = await eventually("the activation record", () =>
      client.activations.get({ name: activationId }).then((r) => r as unknown as ActivationRecord, () => undefined),
    );
    expect(record).toMatchObject({ activationId, name: "probe", namespace: "guest", response: { status: "success", success: true } });
    expect(resultOf(record)).toMatchObject({ echo: { hello: "world" }, activationId, apiHost: ow.apihost, hasKey: true });
    expect(resultOf(record)["deadline"]).toBeGreaterThan(Date.now());
    expect(await client.activations.result({ name: activationId })).toMatchObject({ status: "success", result: { activationId } });
    expect(await client.activations.logs({ name: activationId })).toEqual({ logs: [] });
    const listed = await client.activations.list({ name: "probe", limit: 200 });
    expect(listed.map((a) => a.activationId)).toContain(activationId);
  });

  it("answers a blocking invoke with the activation, or only its result with result=true", async () => {
    const record = await invokeBlocking(client, "probe", { n: 1 });
    expect(record.response).toMatchObject({ status: "success", statusCode: 0, result: { echo: { n: 1 } } });
    expect(record.annotations.find((a) => a.key === "path")?.value).toBe("guest/probe");
    const result = await client.actions.invoke({ name: "probe", params: { n: 2 }, blocking: true, result: true });
    expect(result).toMatchObject({ echo: { n: 2 } });
  });

  it("reports a rejected promise as an application error (502) and keeps the container", async () => {
    const before = await invokeBlocking(client, "probe");
    const record = await invokeBlocking(client, "probe", { mode: "reject" });
    expect(record.response).toMatchObject({ status: "application error", success: false, result: { error: { message: "rejected on purpose" } } });
    expect(resultOf(await invokeBlocking(client, "probe"))["pid"]).toBe(resultOf(before)["pid"]);
  });

  it("answers 404 for an unknown action", async () => {
    const err = await failure(client.actions.invoke({ name: "nope" }));
    expect(err.statusCode).toBe(404);
    expect(err.message).toContain("The requested resource does not exist.");
  });

  it("answers 401 for a wrong key", async () => {
    const stranger = openwhisk({ apihost: ow.apihost, api_key: "a:b", namespace: "_" });
    const err = await failure(stranger.actions.invoke({ name: "probe" }));
    expect(err.statusCode).toBe(401);
    expect(err.message).toContain("The supplied authentication is invalid");
  });

  it("answers 413 for a payload over 1 MiB and accepts one just under", async () => {
    const err = await failure(client.actions.invoke({ name: "probe", params: { blob: "x".repeat(1024 * 1024) } }));
    expect(err.statusCode).toBe(413);
    expect(err.message).toMatch(/Request larger than allowed: \d+ > 1048576 bytes\./);
    const ok = await client.actions.invoke({ name: "probe", params: { blob: "x".repeat(1000 * 1000) } });
    expect(ok.activationId).toBeTruthy();
  });
});

describe("containers", () => {
  let ow: OpenWhiskEmulator;
  let client: Client;
  beforeAll(async () => {
    ({ ow, client } = await emulator({ invocationsPerMinute: 100_000 }));
    await client.actions.create({ name: "box", action: { exec: probeExec } });
    await client.actions.create({ name: "slow", action: { exec: probeExec, limits: { timeout: 300 } } });
  });

  const pidOf = async (name: string): Promise<unknown> => resultOf(await invokeBlocking(client, name))["pid"];

  it("reuses a warm container for the same action version", async () => {
    const warmBefore = ow.stats.warmStarts;
    const first = await pidOf("box");
    expect(await pidOf("box")).toBe(first);
    expect(ow.stats.warmStarts).toBeGreaterThan(warmBefore);
  });

  it("discards the container after a developer error (a thrown error, then a crash)", async () => {
    const first = await pidOf("box");
    const thrown = await invokeBlocking(client, "box", { mode: "throw" });
    expect(thrown.response).toMatchObject({ status: "action developer error", statusCode: 2 });
    expect(resultOf(thrown)["error"]).toContain("thrown on purpose");
    const second = await pidOf("box");
    expect(second).not.toBe(first);
    const crashed = await invokeBlocking(client, "box", { mode: "exit" });
    expect(resultOf(crashed)["error"]).toBe("The action did not produce a valid response and exited unexpectedly.");
    expect(await pidOf("box")).not.toBe(second);
  });

  it("ends an activation past its time limit as a developer error and kills its container", async () => {
    const killedBefore = ow.stats.containersKilled;
    const record = await invokeBlocking(client, "slow", { mode: "hang" });
    expect(record.response).toMatchObject({ status: "action developer error", result: { error: "The action exceeded its time limits of 300 milliseconds." } });
    expect(record.annotations).toContainEqual({ key: "timeout", value: true });
    expect(ow.stats.containersKilled).toBeGreaterThan(killedBefore);
  });

  it("collects an activation's stdout and stderr lines without the end markers", async () => {
    const record = await invokeBlocking(client, "box", { mode: "log", lines: ["hello", "world"] });
    expect(record.logs).toHaveLength(3);
    expect(record.logs[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z stdout: hello$/);
    expect(record.logs[1]).toMatch(/ stdout: world$/);
    expect(record.logs.some((l) => l.endsWith("stderr: to stderr"))).toBe(true);
    expect(record.logs.join("\n")).not.toContain(END_MARKER);
    // the next activation in the same container starts with clean logs
    expect((await invokeBlocking(client, "box", { mode: "log", lines: ["again"] })).logs).toHaveLength(2);
  });

  it("starts a new container when the action is updated (a new version)", async () => {
    const before = await pidOf("box");
    await client.actions.update({ name: "box", action: { exec: probeExec } });
    expect(await pidOf("box")).not.toBe(before);
  });
});

describe("OpenWhisk's limits", () => {
  it("answers 429 with OpenWhisk's message past the invocations per minute", async () => {
    const { client } = await emulator({ invocationsPerMinute: 3 });
    await client.actions.create({ name: "p", action: { exec: probeExec } });
    for (let i = 0; i < 3; i++) await client.actions.invoke({ name: "p" });
    const err = await failure(client.actions.invoke({ name: "p" }));
    expect(err.statusCode).toBe(429);
    expect(err.message).toContain("Too many requests in the last minute (count: 4, allowed: 3).");
  });

  it("answers 429 with OpenWhisk's message past the concurrent activations", async () => {
    const { ow, client } = await emulator({ concurrentLimit: 2 });
    await client.actions.create({ name: "p", action: { exec: probeExec, limits: { timeout: 30_000 } } });
    await client.actions.invoke({ name: "p", params: { mode: "hang" } });
    await client.actions.invoke({ name: "p", params: { mode: "hang" } });
    const err = await failure(client.actions.invoke({ name: "p" }));
    expect(err.statusCode).toBe(429);
    expect(err.message).toContain("Too many concurrent requests in flight (count: 2, allowed: 2).");
    expect(ow.stats.throttledConcurrent).toBe(1);
  });

  it("answers 413 for action code over the code limit", async () => {
    const { client } = await emulator({ maxCodeBytes: 64 });
    const err = await failure(client.actions.create({ name: "big", action: { exec: probeExec } }));
    expect(err.statusCode).toBe(413);
    expect(err.message).toContain("larger than allowed");
  });

  it("accepts a Bearer token when one is configured and refuses a wrong one", async () => {
    const { ow } = await emulator({ bearerToken: "iam-token" });
    const bearer = (token: string): Client =>
      openwhisk({ apihost: ow.apihost, namespace: "_", auth_handler: { getAuthHeader: () => Promise.resolve(`Bearer ${token}`) } });
    expect(await bearer("iam-token").actions.list()).toEqual([]);
    expect((await failure(bearer("wrong").actions.list())).statusCode).toBe(401);
  });
});

describe("fault injection", () => {
  let ow: OpenWhiskEmulator;
  let client: Client;
  beforeAll(async () => {
    ({ ow, client } = await emulator({ invocationsPerMinute: 100_000 }));
    await client.actions.create({ name: "f", action: { exec: probeExec, limits: { timeout: 1000 } } });
  });
  afterEach(() => ow.setFaults({}));

  /** Invoke `n` times in order; the status of each (202, or the error's status, or "network"). */
  async function statuses(n: number): Promise<(number | string)[]> {
    const out: (number | string)[] = [];
    for (let i = 0; i < n; i++) {
      out.push(await client.actions.invoke({ name: "f" }).then(() => 202, (e: unknown) => (e as ClientError).statusCode ?? "network"));
    }
    return out;
  }

  it("injects random 429s from a seeded PRNG: the same seed gives the same pattern", async () => {
    ow.setFaults({ random429Rate: 0.5, seed: 42 });
    const first = await statuses(16);
    ow.setFaults({ random429Rate: 0.5, seed: 42 });
    expect(await statuses(16)).toEqual(first);
    expect(first).toContain(429);
    expect(first).toContain(202);
  });

  it("follows a declared sequence, then serves normally", async () => {
    ow.setFaults({ sequence: ["429", "none", "drop"] });
    expect(await statuses(4)).toEqual([429, 202, "network", 202]);
  });

  it("drops the connection before accepting: nothing runs", async () => {
    const accepted = ow.stats.invocations;
    ow.setFaults({ dropConnectionRate: 1 });
    expect(await statuses(2)).toEqual(["network", "network"]);
    expect(ow.stats.invocations).toBe(accepted);
    expect(ow.stats.faults.drop).toBeGreaterThanOrEqual(2);
  });

  it("drops the connection after accepting: the activation still runs", async () => {
    const before = new Set((await client.activations.list({ name: "f", limit: 200 })).map((a) => a.activationId));
    ow.setFaults({ dropAfterAcceptRate: 1 });
    expect(await statuses(1)).toEqual(["network"]);
    await eventually("the dropped invoke's activation", async () => {
      const now = await client.activations.list({ name: "f", limit: 200 });
      return now.some((a) => !before.has(a.activationId)) ? true : undefined;
    });
  });

  it("accepts an activation that never finishes: 404 forever, its slot freed after the timeout", async () => {
    ow.setFaults({ neverFinishRate: 1 });
    const { activationId } = await client.actions.invoke({ name: "f" });
    ow.setFaults({});
    expect(ow.stats.inFlight).toBeGreaterThanOrEqual(1);
    expect((await invokeBlocking(client, "f")).response.status).toBe("success");
    await eventually("the lost activation's slot", async () => (ow.stats.inFlight === 0 ? true : undefined));
    expect((await failure(client.activations.get({ name: activationId }))).statusCode).toBe(404);
  });
});

describe.skipIf(!existsSync(DEFAULT_PROXY_PATH))("with the project's action proxy (built by npm run build)", () => {
  it("initializes and runs an action, reuses its warm container and collects its logs", async () => {
    const { ow, client } = await emulator({ proxyPath: DEFAULT_PROXY_PATH });
    await client.actions.create({ name: "real", action: { exec: probeExec } });
    const first = await invokeBlocking(client, "real", { n: 1 });
    expect(first.response).toMatchObject({ status: "success", result: { echo: { n: 1 }, apiHost: ow.apihost, hasKey: true } });
    const logged = await invokeBlocking(client, "real", { mode: "log", lines: ["from the runtime"] });
    expect(resultOf(logged)).toEqual({ logged: 1 });
    expect(logged.logs[0]).toMatch(/ stdout: from the runtime$/);
    expect(logged.logs.join("\n")).not.toContain(END_MARKER);
    expect(resultOf(await invokeBlocking(client, "real"))["pid"]).toBe(resultOf(first)["pid"]);
    const thrown = await invokeBlocking(client, "real", { mode: "throw" });
    expect(thrown.response.status).toBe("action developer error");
    expect(resultOf(await invokeBlocking(client, "real"))["pid"]).not.toBe(resultOf(first)["pid"]);
  });
});
