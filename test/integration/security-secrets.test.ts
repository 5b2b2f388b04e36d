/**
 * No secret at rest or on screen (issue 14): a job with a succeeding, a logging and a failing call
 * runs on every backend and mode here (localhost; the OpenWhisk emulator with storage polling,
 * RabbitMQ monitoring and the remote invoker; the Knative server), with job data in the suite's
 * real MinIO, debug logging on. Then every stored object, every log (the client's stderr, the
 * Knative server's output, the emulator's activation records with their logs and results), and
 * every display of the executor, its config, futures, errors and storage clients (`util.inspect` at
 * any depth with hidden fields and getters, as notebooks print values, and `JSON.stringify`) is
 * searched for every configured secret. The executor's internal engine (reachable through
 * `tswren/internal`), its backends, compute and storage backends and monitors, which hold the
 * platform clients, are displayed and searched the same way.
 */
import { inspect } from "node:util";
import openwhisk from "openwhisk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Storage, functionExecutor, type FunctionExecutor, type ResponseFuture } from "../../kernel-lib/src/index.js";
import { engineOf } from "../../kernel-lib/src/internal.js";
import { loadConfig } from "../../kernel-lib/src/config/index.js";
import { createStorageBackend } from "../../kernel-lib/src/storage/registry.js";
import { minioSection, suiteMinio } from "../helpers/minio.js";
import { fileBroker } from "../helpers/rabbitmq.js";
import { serverlessFixture, type Platform } from "../helpers/serverless.js";
import { TEST_SIGNING_KEY } from "../helpers/signing.js";
import type { MinioEndpoint } from "../global-setup.js";

const broker = fileBroker();
let monitoring: "storage" | "rabbitmq" = "storage";
const platforms = serverlessFixture(() => ({ monitoring, config: { tswren: { log_level: "debug" }, rabbitmq: { amqp_url: broker().amqpUrl } } }));
let minio: MinioEndpoint;
const stderr: string[] = [];
const realWrite = process.stderr.write.bind(process.stderr);

beforeAll(async () => {
  minio = await suiteMinio();
  // The client's own log lines (debug level) go to this process's stderr: keep a copy to scan.
  const copy = (chunk: string | Uint8Array, ...rest: never[]): boolean => {
    stderr.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
    return realWrite(chunk, ...rest);
  };
  process.stderr.write = copy;
});

afterAll(() => {
  process.stderr.write = realWrite;
});

/** Every secret configured anywhere in this file's executors. */
function secrets(): Record<string, string> {
  const owKey = platforms.ow.apiKey;
  return {
    "minio.secret_access_key": minio.secretKey,
    "openwhisk.api_key (password part)": owKey.slice(owKey.indexOf(":") + 1),
    "rabbitmq password": broker().password,
    "signing key": TEST_SIGNING_KEY,
  };
}

/** The names of the secrets found in `text`, with the place they were found. */
function leaks(place: string, text: string): string[] {
  return Object.entries(secrets()).filter(([, value]) => text.includes(value)).map(([name]) => `${name} in ${place}`);
}

/** The call: prints a line, fails for 2, returns an object otherwise. */
const job = (x: number): { x: number } => {
  console.log(`call with ${x}`);
  if (x === 2) throw new Error(`failing on purpose with ${x}`);
  return { x };
};

/** Run the job and collect what a user would see: futures, results and the thrown error. */
async function runJob(fx: FunctionExecutor): Promise<{ futures: ResponseFuture[]; error: unknown; results: unknown }> {
  const futures = await fx.map(job, [1, 2, 3]);
  const results = await fx.getResult(futures, { throwExcept: false });
  const error = await fx.getResult(futures).then(() => new Error("expected a failure"), (err: unknown) => err);
  return { futures, error, results };
}

/** Every object in the executor's bucket, as text. */
async function storedText(bucket: string): Promise<string[]> {
  const store = await createStorageBackend("minio", minioSection(minio));
  try {
    const listed = await store.list(bucket, "");
    // At least the function bundle and the statuses (localhost writes them in batches).
    expect(listed.length).toBeGreaterThan(1);
    return await Promise.all(listed.map(async (o) => `${o.key}\n${(await store.get(bucket, o.key)).toString("latin1")}`));
  } finally {
    await store.close();
  }
}

/**
 * What the displays of these values show: util.inspect at every depth (hidden fields too), and
 * JSON for the public values (`json: false` for internal objects that are not meant to be JSON).
 */
function displays(values: Record<string, unknown>, json: boolean): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(values)) {
    out.push([`inspect(${name})`, inspect(value, { depth: Infinity, showHidden: true, getters: true })]);
    out.push([`inspect(${name}, default depth)`, inspect(value)]);
    if (json) out.push([`JSON.stringify(${name})`, JSON.stringify(value) ?? ""]);
  }
  return out;
}

async function activationText(): Promise<string> {
  const client = openwhisk({ apihost: platforms.ow.apihost, api_key: platforms.ow.apiKey, namespace: platforms.ow.namespace });
  const listed = await client.activations.list({ docs: true, limit: 200 });
  return JSON.stringify(listed);
}

async function scan(fx: FunctionExecutor, platform: Platform | "localhost"): Promise<string[]> {
  const start = stderr.length;
  const { futures, error, results } = await runJob(fx);
  expect(results).toEqual([{ x: 1 }, null, { x: 3 }]);
  expect(String(error)).toContain("failing on purpose with 2");
  const core = engineOf(fx);
  const found: string[] = [];
  const config = loadConfig({ config: { minio: minioSection(minio), rabbitmq: { amqp_url: broker().amqpUrl } } });
  const storage = new Storage((await core.backends()).storage, "some-bucket");
  const b = await core.backends();
  const internals = { engine: core, backends: b, "compute backend": b.compute, "storage backend": storage.backend, ...(b.rabbit !== null ? { "rabbitmq monitor": b.rabbit } : {}) };
  const shown = [...displays({ fx, futures, future: futures[0], error, config, storage, ...internals }, true)];
  for (const [place, text] of shown) {
    found.push(...leaks(place, text));
  }
  found.push(...leaks("error message and stack", `${String(error)}\n${(error as Error).stack ?? ""}`));
  found.push(...leaks("the client's log lines", stderr.slice(start).join("")));
  const bucket = (await core.backends()).storageRef.bucket;
  for (const text of await storedText(bucket)) found.push(...leaks(`object ${text.slice(0, text.indexOf("\n"))}`, text));
  if (platform === "knative") found.push(...leaks("the Knative server's output", platforms.knative.stdout() + platforms.knative.stderr()));
  if (platform === "openwhisk") found.push(...leaks("the emulator's activation records", await activationText()));
  return found;
}

describe("no configured secret appears in storage, logs, errors or displays, on any backend and mode", () => {
  it("localhost compute with MinIO storage", async () => {
    monitoring = "storage";
    const fx = functionExecutor({ backend: "localhost", storage: "minio", storageBucket: `tswren-sec-${Date.now()}`, dataCleaner: false, config: { tswren: { log_level: "debug" }, minio: minioSection(minio), rabbitmq: { amqp_url: broker().amqpUrl } } });
    try {
      expect(await scan(fx, "localhost")).toEqual([]);
    } finally {
      await fx.close();
    }
  });

  it("OpenWhisk (emulator), storage monitoring", async () => {
    monitoring = "storage";
    expect(await scan(platforms.executor("openwhisk"), "openwhisk")).toEqual([]);
  });

  it("OpenWhisk (emulator), RabbitMQ monitoring", async () => {
    monitoring = "rabbitmq";
    expect(await scan(platforms.executor("openwhisk"), "openwhisk")).toEqual([]);
  });

  it("OpenWhisk (emulator), remote invoker", async () => {
    monitoring = "storage";
    expect(await scan(platforms.executor("openwhisk", { remote_invoker: true }), "openwhisk")).toEqual([]);
  });

  it("Knative, storage monitoring and RabbitMQ monitoring", async () => {
    monitoring = "storage";
    expect(await scan(platforms.executor("knative"), "knative")).toEqual([]);
    monitoring = "rabbitmq";
    expect(await scan(platforms.executor("knative"), "knative")).toEqual([]);
  });
});
